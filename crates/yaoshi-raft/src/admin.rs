//! Cluster administration (proto/admin.proto): membership changes — add a learner, promote it to
//! voter, remove a node — and each node's status (members, leader, term, last log, committed,
//! applied and snapshot index).
//!
//! Changes run on the leader (openraft's joint consensus); a follower receiving one forwards it to
//! the leader it knows. [`AdminClient`] is what `yaoshi cluster` uses, in plain Rust types.
//!
//! The service is served twice ([`AdminGrpc::operator`], [`AdminGrpc::internal`]): on the node's
//! admin listener for the region's operator certificate only, and on the gRPC port for the
//! region's nodes only (forwarded changes, the status of each member). An operator certificate is
//! refused on the gRPC port, and a node's or worker's on the admin listener.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use openraft::storage::RaftLogStorage;
use openraft::{BasicNode, ChangeMembers, ServerState};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use yaoshi_store::NodeId;

use crate::node::RegionNode;
use crate::pb::admin::cluster_admin_client::ClusterAdminClient;
use crate::pb::admin::cluster_admin_server::{ClusterAdmin, ClusterAdminServer};
use crate::pb::admin::{
    ChangeReply, ChangeRequest, Member, MemberReport, MembersReply, NodeStatus, StatusRequest,
};
use crate::tls::{ClusterTls, Need, Peer};

/// How long a membership change may take (adding a learner waits until it has caught up, which
/// may mean building and sending a snapshot).
pub const CHANGE_TIMEOUT: Duration = Duration::from_secs(120);

/// A node's role as it reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// The region's leader.
    Leader,
    /// A voter following the leader.
    Follower,
    /// A voter asking for votes.
    Candidate,
    /// A non-voting member receiving the log.
    Learner,
    /// Stopped.
    Shutdown,
}

impl NodeState {
    fn name(self) -> &'static str {
        match self {
            NodeState::Leader => "Leader",
            NodeState::Follower => "Follower",
            NodeState::Candidate => "Candidate",
            NodeState::Learner => "Learner",
            NodeState::Shutdown => "Shutdown",
        }
    }

    fn parse(s: &str) -> NodeState {
        match s {
            "Leader" => NodeState::Leader,
            "Follower" => NodeState::Follower,
            "Candidate" => NodeState::Candidate,
            "Learner" => NodeState::Learner,
            _ => NodeState::Shutdown,
        }
    }
}

impl std::fmt::Display for NodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One node's view of its region group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStatus {
    /// The reporting node.
    pub node_id: NodeId,
    /// Its role.
    pub state: NodeState,
    /// The leader it knows of.
    pub leader: Option<NodeId>,
    /// Its current term.
    pub term: u64,
    /// Index of its last log entry.
    pub last_log_index: Option<u64>,
    /// The highest index it knows to be committed.
    pub committed: Option<u64>,
    /// The highest index applied to its state machine.
    pub applied: Option<u64>,
    /// The last index covered by its snapshot.
    pub snapshot: Option<u64>,
    /// Voters (id → gRPC address) of its effective membership.
    pub voters: BTreeMap<NodeId, String>,
    /// Learners (id → gRPC address).
    pub learners: BTreeMap<NodeId, String>,
    /// Whether the membership is a joint (transitional) configuration.
    pub joint: bool,
}

/// One node's view of the group with every member's own status (or why it could not be read).
#[derive(Debug, Clone)]
pub struct MembersView {
    /// The answering node's view.
    pub view: MemberStatus,
    /// Each voter's and learner's own status.
    pub members: BTreeMap<NodeId, Result<MemberStatus, String>>,
}

/// A refused or failed administrative request.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The request is invalid for the current membership (e.g. promoting an unknown node).
    #[error("{0}")]
    Invalid(String),
    /// No leader could take the change, or the node could not be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<AdminError> for Status {
    fn from(e: AdminError) -> Status {
        match e {
            AdminError::Invalid(m) => Status::failed_precondition(m),
            AdminError::Unavailable(m) => Status::unavailable(m),
        }
    }
}

fn plus_one(i: Option<u64>) -> u64 {
    i.map_or(0, |i| i + 1)
}

fn minus_one(i: u64) -> Option<u64> {
    i.checked_sub(1)
}

impl From<&MemberStatus> for NodeStatus {
    fn from(s: &MemberStatus) -> NodeStatus {
        let members = |m: &BTreeMap<NodeId, String>| {
            m.iter().map(|(id, addr)| Member { id: *id, addr: addr.clone() }).collect()
        };
        NodeStatus {
            node_id: s.node_id,
            state: s.state.name().to_string(),
            leader: s.leader.unwrap_or(0),
            term: s.term,
            last_log_index_plus_one: plus_one(s.last_log_index),
            committed_index_plus_one: plus_one(s.committed),
            applied_index_plus_one: plus_one(s.applied),
            snapshot_index_plus_one: plus_one(s.snapshot),
            voters: members(&s.voters),
            learners: members(&s.learners),
            joint: s.joint,
        }
    }
}

impl From<NodeStatus> for MemberStatus {
    fn from(s: NodeStatus) -> MemberStatus {
        let members = |m: Vec<Member>| m.into_iter().map(|m| (m.id, m.addr)).collect();
        MemberStatus {
            node_id: s.node_id,
            state: NodeState::parse(&s.state),
            leader: (s.leader != 0).then_some(s.leader),
            term: s.term,
            last_log_index: minus_one(s.last_log_index_plus_one),
            committed: minus_one(s.committed_index_plus_one),
            applied: minus_one(s.applied_index_plus_one),
            snapshot: minus_one(s.snapshot_index_plus_one),
            voters: members(s.voters),
            learners: members(s.learners),
            joint: s.joint,
        }
    }
}

impl RegionNode {
    /// This node's current view of the group.
    pub async fn member_status(&self) -> MemberStatus {
        let m = self.raft.metrics().borrow().clone();
        let committed = self.log.clone().read_committed().await.ok().flatten().map(|l| l.index);
        let membership = m.membership_config.membership();
        let addr =
            |id: &NodeId| membership.get_node(id).map(|n| n.addr.clone()).unwrap_or_default();
        let voters: BTreeMap<NodeId, String> =
            membership.voter_ids().map(|id| (id, addr(&id))).collect();
        let learners = membership.learner_ids().map(|id| (id, addr(&id))).collect();
        let state = match m.state {
            ServerState::Leader => NodeState::Leader,
            ServerState::Follower if voters.contains_key(&self.id) => NodeState::Follower,
            ServerState::Follower | ServerState::Learner => NodeState::Learner,
            ServerState::Candidate => NodeState::Candidate,
            ServerState::Shutdown => NodeState::Shutdown,
        };
        MemberStatus {
            node_id: self.id,
            state,
            leader: m.current_leader,
            term: m.current_term,
            last_log_index: m.last_log_index,
            committed,
            applied: m.last_applied.map(|l| l.index),
            snapshot: m.snapshot.map(|l| l.index),
            voters,
            learners,
            joint: membership.get_joint_config().len() > 1,
        }
    }

    /// Every voter's and learner's own status as asked at its gRPC address (this node's from
    /// itself), or why it could not be read.
    pub async fn members_status(
        &self,
    ) -> (MemberStatus, BTreeMap<NodeId, Result<MemberStatus, String>>) {
        let view = self.member_status().await;
        let mut members = BTreeMap::new();
        for (id, addr) in view.voters.iter().chain(&view.learners) {
            let status = if *id == self.id {
                Ok(self.member_status().await)
            } else {
                let name = crate::tls::node_name(self.region.as_str(), *id);
                match AdminClient::connect(addr, self.tls.as_deref(), &name).await {
                    Ok(mut c) => c.status(self.region.as_str()).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            };
            members.insert(*id, status);
        }
        (view, members)
    }

    /// Runs a membership change on this node if it is the leader.
    async fn change_here(&self, change: Change) -> Result<MemberStatus, AdminError> {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership().clone();
        let is_voter = |id: &NodeId| membership.voter_ids().any(|v| v == *id);
        let is_learner = |id: &NodeId| membership.learner_ids().any(|v| v == *id);
        let result = match &change {
            Change::AddLearner { id, addr } => {
                if is_voter(id) {
                    return Err(AdminError::Invalid(format!("node {id} is already a voter")));
                }
                if addr.is_empty() {
                    return Err(AdminError::Invalid("a learner needs its gRPC address".into()));
                }
                tokio::time::timeout(
                    CHANGE_TIMEOUT,
                    self.raft.add_learner(*id, BasicNode { addr: addr.clone() }, true),
                )
                .await
            }
            Change::Promote { id } => {
                if is_voter(id) {
                    return Ok(self.member_status().await);
                }
                if !is_learner(id) {
                    return Err(AdminError::Invalid(format!(
                        "node {id} is not a learner: add it first"
                    )));
                }
                tokio::time::timeout(
                    CHANGE_TIMEOUT,
                    self.raft.change_membership(
                        ChangeMembers::AddVoterIds(BTreeSet::from([*id])),
                        false,
                    ),
                )
                .await
            }
            Change::Remove { id } => {
                let changes = if is_voter(id) {
                    if membership.voter_ids().count() == 1 {
                        return Err(AdminError::Invalid("cannot remove the last voter".into()));
                    }
                    ChangeMembers::RemoveVoters(BTreeSet::from([*id]))
                } else if is_learner(id) {
                    ChangeMembers::RemoveNodes(BTreeSet::from([*id]))
                } else {
                    return Err(AdminError::Invalid(format!("node {id} is not a member")));
                };
                tokio::time::timeout(CHANGE_TIMEOUT, self.raft.change_membership(changes, false))
                    .await
            }
        };
        match result {
            Err(_) => Err(AdminError::Unavailable(format!("{change:?} did not commit in time"))),
            Ok(Ok(_)) => Ok(self.member_status().await),
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
                Err(AdminError::Unavailable(format!("leadership moved to {:?}", f.leader_id)))
            }
            Ok(Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(e)))) => {
                Err(AdminError::Invalid(e.to_string()))
            }
            Ok(Err(RaftError::Fatal(e))) => Err(AdminError::Unavailable(e.to_string())),
        }
    }

    /// Runs a membership change on the leader: here, or forwarded to the leader this node knows.
    /// Waits up to the request timeout for a reachable leader (e.g. while a removed leader hands
    /// over).
    async fn change(&self, change: Change) -> Result<MemberStatus, AdminError> {
        let deadline = tokio::time::Instant::now() + self.request_timeout;
        loop {
            let leader = self.raft.current_leader().await;
            let why = match leader {
                Some(l) if l == self.id => return self.change_here(change).await,
                Some(l) => match self.peer_addr(l) {
                    Some(addr) => match AdminClient::connect(
                        &addr,
                        self.tls.as_deref(),
                        &crate::tls::node_name(self.region.as_str(), l),
                    )
                    .await
                    {
                        Ok(mut client) => {
                            return client.change(self.region.as_str(), change).await;
                        }
                        Err(e) => e.to_string(),
                    },
                    None => format!("no address for leader {l}"),
                },
                None => "no leader".to_string(),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(AdminError::Unavailable(why));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A membership change.
#[derive(Debug, Clone)]
enum Change {
    AddLearner { id: NodeId, addr: String },
    Promote { id: NodeId },
    Remove { id: NodeId },
}

/// The gRPC server side of proto/admin.proto for one region node.
#[derive(Debug, Clone)]
pub struct AdminGrpc {
    node: Arc<RegionNode>,
    /// Who this copy of the service admits.
    need: Need,
}

impl AdminGrpc {
    /// The service of the admin listener: the region's operator certificate only.
    pub fn operator(node: Arc<RegionNode>) -> ClusterAdminServer<AdminGrpc> {
        ClusterAdminServer::new(AdminGrpc { node, need: Need::Operator })
    }

    /// The service of the gRPC port: the region's nodes only (a follower forwarding a change, a
    /// node asking for this one's status).
    pub fn internal(node: Arc<RegionNode>) -> ClusterAdminServer<AdminGrpc> {
        ClusterAdminServer::new(AdminGrpc { node, need: Need::AnyNode })
    }

    /// Admits what this copy of the service serves (on a plaintext, loopback-only port: anyone).
    fn admit<T>(&self, req: &Request<T>) -> Result<(), Status> {
        let peer = Peer::of(req, self.node.tls.is_some())?;
        Peer::require(peer.as_ref(), self.node.region.as_str(), self.need)
    }

    fn check_region(&self, region: &str) -> Result<(), Status> {
        if region != self.node.region.as_str() {
            return Err(Status::invalid_argument(format!(
                "this node serves region {}, not {region}",
                self.node.region
            )));
        }
        Ok(())
    }

    async fn run(
        &self,
        req: ChangeRequest,
        change: Change,
    ) -> Result<Response<ChangeReply>, Status> {
        self.check_region(&req.region)?;
        if req.node_id == 0 {
            return Err(Status::invalid_argument("node ids start at 1"));
        }
        tracing::info!(?change, "membership change requested");
        let status = self.node.change(change).await?;
        Ok(Response::new(ChangeReply { status: Some(NodeStatus::from(&status)) }))
    }
}

#[tonic::async_trait]
impl ClusterAdmin for AdminGrpc {
    async fn status(&self, req: Request<StatusRequest>) -> Result<Response<NodeStatus>, Status> {
        self.admit(&req)?;
        self.check_region(&req.get_ref().region)?;
        Ok(Response::new(NodeStatus::from(&self.node.member_status().await)))
    }

    async fn members(&self, req: Request<StatusRequest>) -> Result<Response<MembersReply>, Status> {
        self.admit(&req)?;
        self.check_region(&req.get_ref().region)?;
        let (view, members) = self.node.members_status().await;
        let members = members
            .into_iter()
            .map(|(id, r)| match r {
                Ok(s) => {
                    MemberReport { id, status: Some(NodeStatus::from(&s)), error: String::new() }
                }
                Err(error) => MemberReport { id, status: None, error },
            })
            .collect();
        Ok(Response::new(MembersReply { view: Some(NodeStatus::from(&view)), members }))
    }

    async fn add_learner(
        &self,
        req: Request<ChangeRequest>,
    ) -> Result<Response<ChangeReply>, Status> {
        self.admit(&req)?;
        let req = req.into_inner();
        let change = Change::AddLearner { id: req.node_id, addr: req.addr.clone() };
        self.run(req, change).await
    }

    async fn promote(&self, req: Request<ChangeRequest>) -> Result<Response<ChangeReply>, Status> {
        self.admit(&req)?;
        let req = req.into_inner();
        let change = Change::Promote { id: req.node_id };
        self.run(req, change).await
    }

    async fn remove(&self, req: Request<ChangeRequest>) -> Result<Response<ChangeReply>, Status> {
        self.admit(&req)?;
        let req = req.into_inner();
        let change = Change::Remove { id: req.node_id };
        self.run(req, change).await
    }
}

/// A client of one node's admin service.
#[derive(Debug, Clone)]
pub struct AdminClient {
    inner: ClusterAdminClient<Channel>,
    addr: String,
}

fn status_error(addr: &str, s: &Status) -> AdminError {
    match s.code() {
        tonic::Code::FailedPrecondition | tonic::Code::InvalidArgument => {
            AdminError::Invalid(s.message().to_string())
        }
        _ => AdminError::Unavailable(format!("{addr}: {}", s.message())),
    }
}

impl AdminClient {
    /// Connects to the gRPC address of a node (`host:port`); with `tls`, presenting its
    /// certificate and requiring the server to be `server_name` (`tls::region_name` for any node
    /// of a region).
    ///
    /// # Errors
    ///
    /// [`AdminError::Unavailable`] when the node cannot be reached.
    pub async fn connect(
        addr: &str,
        tls: Option<&ClusterTls>,
        server_name: &str,
    ) -> Result<AdminClient, AdminError> {
        let endpoint = crate::tls::endpoint(addr, tls, server_name)
            .map_err(|e| AdminError::Invalid(format!("bad address {addr}: {e}")))?
            .connect_timeout(Duration::from_secs(2))
            .timeout(CHANGE_TIMEOUT + Duration::from_secs(5));
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| AdminError::Unavailable(format!("{addr}: {e}")))?;
        Ok(AdminClient { inner: ClusterAdminClient::new(channel), addr: addr.to_string() })
    }

    /// The node's view of the group.
    ///
    /// # Errors
    ///
    /// When the node cannot be reached or serves another region.
    pub async fn status(&mut self, region: &str) -> Result<MemberStatus, AdminError> {
        let mut req = Request::new(StatusRequest { region: region.to_string() });
        req.set_timeout(Duration::from_secs(5));
        let r = self.inner.status(req).await.map_err(|s| status_error(&self.addr, &s))?;
        Ok(r.into_inner().into())
    }

    /// The node's view of the group and every member's own status, which the node asked for.
    ///
    /// # Errors
    ///
    /// When the node cannot be reached or serves another region.
    pub async fn members(&mut self, region: &str) -> Result<MembersView, AdminError> {
        let mut req = Request::new(StatusRequest { region: region.to_string() });
        req.set_timeout(Duration::from_secs(10));
        let r = self.inner.members(req).await.map_err(|s| status_error(&self.addr, &s))?;
        let r = r.into_inner();
        let view = r
            .view
            .map(MemberStatus::from)
            .ok_or_else(|| AdminError::Unavailable("empty reply".into()))?;
        let members = r
            .members
            .into_iter()
            .map(|m| (m.id, m.status.map(MemberStatus::from).ok_or(m.error)))
            .collect();
        Ok(MembersView { view, members })
    }

    async fn change(&mut self, region: &str, change: Change) -> Result<MemberStatus, AdminError> {
        let (node_id, addr) = match &change {
            Change::AddLearner { id, addr } => (*id, addr.clone()),
            Change::Promote { id } | Change::Remove { id } => (*id, String::new()),
        };
        let req = ChangeRequest { region: region.to_string(), node_id, addr };
        let reply = match change {
            Change::AddLearner { .. } => self.inner.add_learner(req).await,
            Change::Promote { .. } => self.inner.promote(req).await,
            Change::Remove { .. } => self.inner.remove(req).await,
        }
        .map_err(|s| status_error(&self.addr, &s))?;
        reply
            .into_inner()
            .status
            .map(MemberStatus::from)
            .ok_or_else(|| AdminError::Unavailable("empty reply".into()))
    }

    /// Adds node `id` at gRPC address `addr` as a learner; returns once it has caught up.
    ///
    /// # Errors
    ///
    /// When the change is invalid or did not commit.
    pub async fn add_learner(
        &mut self,
        region: &str,
        id: NodeId,
        addr: &str,
    ) -> Result<MemberStatus, AdminError> {
        self.change(region, Change::AddLearner { id, addr: addr.to_string() }).await
    }

    /// Promotes learner `id` to voter.
    ///
    /// # Errors
    ///
    /// When the change is invalid or did not commit.
    pub async fn promote(&mut self, region: &str, id: NodeId) -> Result<MemberStatus, AdminError> {
        self.change(region, Change::Promote { id }).await
    }

    /// Removes voter or learner `id`.
    ///
    /// # Errors
    ///
    /// When the change is invalid or did not commit.
    pub async fn remove(&mut self, region: &str, id: NodeId) -> Result<MemberStatus, AdminError> {
        self.change(region, Change::Remove { id }).await
    }
}
