//! `RegionNode`: one node's membership in a region's Raft group, and its two paths: writes
//! (`write`, local or forwarded to the leader, through the group-commit proposer below) and
//! linearizable reads (`read_barrier`).
//!
//! **Group commit.** openraft 0.9 turns every `client_write` into a log entry of its own and
//! appends it with its own fsync before it looks at the next one (`RaftCore::append_to_log` awaits
//! the flush). So that one append and one fsync carry many writes, every write of this node goes
//! through the proposer task, which packs the writes waiting at that moment into one [`Proposal`]
//! (one log entry; the state machine applies its commands in order, each with its own effects,
//! response and audit event). At most [`MAX_IN_FLIGHT`] proposals are in openraft at a time;
//! writes that arrive meanwhile queue and leave together in the next proposal. A lone write leaves
//! at once (no added delay); under load the batch grows with the number of waiting writers, up to
//! [`MAX_COMMANDS`] commands or [`MAX_BYTES`] encoded bytes per entry.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{CheckIsLeaderError, ClientWriteError, RaftError};
use openraft::{BasicNode, Config, Raft, SnapshotPolicy};
use tokio::sync::{Mutex, Semaphore, mpsc, oneshot};
use tokio::time::Instant;
use tonic::transport::Channel;
use yaoshi_model::{CommandEnvelope, CommandResponse, Proposal, RegionId};
use yaoshi_store::codec::{decode, encode, encoded_len};
use yaoshi_store::{NodeId, OpenStoreError, RocksLogStore, StateReader, TypeConfig};

use crate::claims::Voters;
use crate::network::{GrpcNetworkFactory, MAX_MESSAGE_BYTES};
use crate::nonces::NonceCache;
use crate::pb::{ForwardReply, RaftRequest, RaftServiceClient};

/// Settings of one node of a region group.
#[derive(Clone)]
pub struct RegionConfig {
    /// The region this group serves.
    pub region: RegionId,
    /// This node's id.
    pub node_id: NodeId,
    /// The address other nodes reach this node's gRPC service at (`host:port`).
    pub raft_addr: String,
    /// The initial voters (id → gRPC address), this node included.
    pub initial_members: BTreeMap<NodeId, String>,
    /// The region's data directory.
    pub data_dir: PathBuf,
    /// Leader heartbeat interval.
    pub heartbeat: Duration,
    /// Election timeout range.
    pub election_timeout: (Duration, Duration),
    /// Build a snapshot after this many applied entries since the last one.
    pub snapshot_logs_since_last: u64,
    /// Entries kept in the log behind a snapshot (the rest is compacted).
    pub logs_to_keep_after_snapshot: u64,
    /// How long a write or read barrier may wait for a leader before failing.
    pub request_timeout: Duration,
    /// KMS time, Unix milliseconds: as leader, this node replaces the time of every command it
    /// appends (`CommandMeta::at_ms`) by its own when the two differ by more than
    /// `max_clock_skew_ms`, so no peer chooses the time that decides what is due.
    pub clock: Clock,
    /// How far a command's time may be from the leader's clock and be kept (KMS milliseconds).
    /// Within it, a write retried after an unknown outcome keeps its first time and stays
    /// recognizable as the same proposal.
    pub max_clock_skew_ms: i64,
    /// Mutual TLS of the gRPC port (`None`: plaintext, loopback only).
    pub tls: crate::tls::SharedTls,
    /// Bound of this node's nonce cache (its vote on replay claims, [`crate::claims`]).
    pub nonce_cache_entries: usize,
    /// Where a clean shutdown saves the nonce cache and the next start restores it from
    /// ([`NonceCache::save`]); `None`: start empty.
    pub nonce_file: Option<PathBuf>,
}

impl std::fmt::Debug for RegionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionConfig")
            .field("region", &self.region)
            .field("node_id", &self.node_id)
            .field("raft_addr", &self.raft_addr)
            .field("initial_members", &self.initial_members)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// A source of KMS time, Unix milliseconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Failure to start a region node.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store did not open.
    #[error("cannot open the region store")]
    Store(#[from] OpenStoreError),
    /// openraft rejected the configuration.
    #[error("invalid raft configuration")]
    Config(#[from] openraft::ConfigError),
    /// openraft failed to start.
    #[error("raft failed to start")]
    Raft(#[from] openraft::error::Fatal<NodeId>),
}

/// Failure of a replicated write or a read barrier.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// No leader could be reached within the request timeout; nothing was appended.
    #[error("no leader available")]
    NoLeader,
    /// The outcome is unknown (the leader was reached but did not answer in time).
    #[error("outcome unknown, the leader did not answer")]
    Uncertain,
    /// The Raft node stopped.
    #[error("raft node stopped")]
    Stopped,
}

/// One node of a region's Raft group.
pub struct RegionNode {
    /// This node's id.
    pub id: NodeId,
    /// The region.
    pub region: RegionId,
    /// The openraft handle.
    pub raft: Raft<TypeConfig>,
    /// Reader of the local replica's state.
    pub state: StateReader,
    pub(crate) log: RocksLogStore,
    initial_members: BTreeMap<NodeId, String>,
    pub(crate) request_timeout: Duration,
    /// Group commit: every write of this node (forwarded ones included) is proposed through it.
    pub(crate) proposer: Proposer,
    leader_clients: Mutex<HashMap<NodeId, RaftServiceClient<Channel>>>,
    /// Mutual TLS of the gRPC port, for the servers and for every channel this node opens.
    pub tls: crate::tls::SharedTls,
    /// The SignatureNonces this node has seen: checked by its own API first, and its vote when
    /// another process claims a nonce ([`crate::claims`]).
    pub nonces: Arc<NonceCache>,
}

impl std::fmt::Debug for RegionNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionNode").field("id", &self.id).field("region", &self.region).finish()
    }
}

impl RegionNode {
    /// Opens the store and starts the Raft node (not yet serving gRPC: see [`crate::RaftGrpc`]).
    ///
    /// # Errors
    ///
    /// Fails when the store does not open or openraft rejects the configuration.
    pub async fn start(cfg: RegionConfig) -> Result<Arc<RegionNode>, StartError> {
        let (log, sm, state) = yaoshi_store::open_region(&cfg.data_dir)?;
        let raft_config = Config {
            cluster_name: format!("yaoshi-{}", cfg.region),
            heartbeat_interval: cfg.heartbeat.as_millis() as u64,
            election_timeout_min: cfg.election_timeout.0.as_millis() as u64,
            election_timeout_max: cfg.election_timeout.1.as_millis() as u64,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(cfg.snapshot_logs_since_last),
            max_in_snapshot_log_to_keep: cfg.logs_to_keep_after_snapshot,
            snapshot_max_chunk_size: (MAX_MESSAGE_BYTES / 4) as u64,
            // Entries are proposals of up to [`MAX_BYTES`]: keep a replication message of
            // this many well under the gRPC limit.
            max_payload_entries: (MAX_MESSAGE_BYTES / 2 / MAX_BYTES) as u64,
            ..Default::default()
        }
        .validate()?;
        let network = GrpcNetworkFactory::new(cfg.region.to_string(), cfg.tls.clone());
        let raft = Raft::new(cfg.node_id, Arc::new(raft_config), network, log.clone(), sm).await?;
        Ok(Arc::new(RegionNode {
            id: cfg.node_id,
            region: cfg.region,
            raft: raft.clone(),
            state,
            log,
            initial_members: cfg.initial_members,
            request_timeout: cfg.request_timeout,
            proposer: Proposer::start(raft.clone(), cfg.clock.clone(), cfg.max_clock_skew_ms),
            leader_clients: Mutex::new(HashMap::new()),
            tls: cfg.tls,
            nonces: Arc::new(match &cfg.nonce_file {
                Some(path) => NonceCache::load(path, cfg.nonce_cache_entries, wall_ms()),
                None => NonceCache::new(cfg.nonce_cache_entries),
            }),
        }))
    }

    /// Forms the group from the configured initial members if this node has never been part of
    /// one. Every initial member does this with the same member list, which openraft makes safe;
    /// so the members form the cluster by themselves once they can reach each other.
    ///
    /// # Errors
    ///
    /// Fails only when the Raft node has stopped.
    pub async fn initialize_if_pristine(&self) -> Result<bool, WriteError> {
        if self.raft.is_initialized().await.map_err(|_| WriteError::Stopped)? {
            return Ok(false);
        }
        let members: BTreeMap<NodeId, BasicNode> = self
            .initial_members
            .iter()
            .map(|(id, addr)| (*id, BasicNode { addr: addr.clone() }))
            .collect();
        match self.raft.initialize(members).await {
            Ok(()) => Ok(true),
            Err(RaftError::APIError(e)) => {
                tracing::debug!(error = %e, "initialize not allowed, group already formed");
                Ok(false)
            }
            Err(RaftError::Fatal(_)) => Err(WriteError::Stopped),
        }
    }

    /// Whether this node is the region's leader right now (by its own metrics; a deposed leader may
    /// still believe it for up to an election timeout, which is why scheduled commands carry
    /// preconditions).
    pub fn is_leader(&self) -> bool {
        let m = self.raft.metrics().borrow().clone();
        m.state == openraft::ServerState::Leader && m.current_leader == Some(self.id)
    }

    /// Replicates `env` only if this node is the leader, never forwarding: what the leader-only
    /// scheduler proposes through.
    ///
    /// # Errors
    ///
    /// [`WriteError::NoLeader`] when this node is not (or stopped being) the leader before the
    /// entry was appended; [`WriteError::Uncertain`] when the outcome is unknown.
    pub async fn write_as_leader(
        &self,
        env: CommandEnvelope,
    ) -> Result<CommandResponse, WriteError> {
        if !self.is_leader() {
            return Err(WriteError::NoLeader);
        }
        match tokio::time::timeout(self.request_timeout, self.proposer.propose(env)).await {
            Err(_elapsed) => Err(WriteError::Uncertain),
            Ok(Ok((_, response))) => Ok(response),
            Ok(Err(ProposeError::ForwardToLeader(_))) => Err(WriteError::NoLeader),
            Ok(Err(ProposeError::Membership(_))) => Err(WriteError::Uncertain),
            Ok(Err(ProposeError::Stopped)) => Err(WriteError::Stopped),
        }
    }

    /// The local log store (tests use it to replay the log).
    pub fn log_store(&self) -> &RocksLogStore {
        &self.log
    }

    pub(crate) fn peer_addr(&self, id: NodeId) -> Option<String> {
        let m = self.raft.metrics().borrow().clone();
        m.membership_config
            .membership()
            .get_node(&id)
            .map(|n| n.addr.clone())
            .or_else(|| self.initial_members.get(&id).cloned())
    }

    /// A connected client to `leader`, or `None` when it cannot be reached (nothing was sent).
    async fn leader_client(&self, leader: NodeId) -> Option<RaftServiceClient<Channel>> {
        if let Some(c) = self.leader_clients.lock().await.get(&leader) {
            return Some(c.clone());
        }
        let addr = self.peer_addr(leader)?;
        let name = crate::tls::node_name(self.region.as_str(), leader);
        let endpoint = crate::tls::endpoint(&addr, self.tls.as_deref(), &name)
            .ok()?
            .connect_timeout(Duration::from_millis(500))
            .tcp_nodelay(true);
        let channel = endpoint.connect().await.ok()?;
        let client = RaftServiceClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        self.leader_clients.lock().await.insert(leader, client.clone());
        Some(client)
    }

    /// Replicates `env` through the group and returns its apply result. On a follower the write is
    /// forwarded to the leader.
    ///
    /// Attempts are retried with the same envelope until the request timeout: after a refused
    /// forward, a lost leader, and also after an attempt whose outcome is unknown (a forward that
    /// timed out or whose connection broke, a leader that stepped down with the entry appended).
    /// That is safe because the state machine applies a signed proposal once: a repeated
    /// (principal, nonce, request id) changes nothing and answers the first response
    /// (`yaoshi-store` apply). Unsigned (system) commands carry their own preconditions.
    ///
    /// # Errors
    ///
    /// [`WriteError::NoLeader`] when no attempt can have been appended; [`WriteError::Uncertain`]
    /// when one may have been and none answered in time.
    pub async fn write(&self, env: CommandEnvelope) -> Result<CommandResponse, WriteError> {
        let deadline = Instant::now() + self.request_timeout;
        // A single attempt never takes all the time, so a write stuck on a paused or partitioned
        // leader is retried on its successor.
        let attempt_limit = (self.request_timeout / 3).max(Duration::from_millis(500));
        let mut maybe_appended = false;
        loop {
            let attempt_deadline = deadline.min(Instant::now() + attempt_limit);
            let leader = self.raft.current_leader().await;
            match leader {
                Some(l) if l == self.id => {
                    maybe_appended = true;
                    let res = tokio::time::timeout_at(
                        attempt_deadline,
                        self.proposer.propose(env.clone()),
                    )
                    .await;
                    match res {
                        Err(_elapsed) => {}
                        Ok(Ok((_, response))) => return Ok(response),
                        Ok(Err(ProposeError::ForwardToLeader(_))) => {}
                        Ok(Err(ProposeError::Membership(e))) => {
                            tracing::error!(error = %e, "membership error on a normal write");
                            return Err(WriteError::Uncertain);
                        }
                        Ok(Err(ProposeError::Stopped)) => return Err(WriteError::Stopped),
                    }
                }
                Some(l) => {
                    if let Some(mut client) = self.leader_client(l).await {
                        let mut req = tonic::Request::new(RaftRequest {
                            region: self.region.to_string(),
                            payload: encode(&env),
                        });
                        req.set_timeout(attempt_deadline.saturating_duration_since(Instant::now()));
                        match client.client_write(req).await {
                            Ok(reply) => match decode::<ForwardReply<(u64, CommandResponse)>>(
                                &reply.into_inner().payload,
                            ) {
                                Ok(ForwardReply::Done((index, r))) => {
                                    // Read-your-writes at the acknowledging node: the data plane
                                    // reads the local replica, so wait until it has applied the
                                    // write before answering.
                                    self.wait_applied(Some(index), deadline)
                                        .await
                                        .map_err(|_| WriteError::Uncertain)?;
                                    return Ok(r);
                                }
                                Ok(ForwardReply::NotLeader { .. }) => {}
                                Ok(ForwardReply::Unavailable) | Err(_) => maybe_appended = true,
                            },
                            Err(status) => {
                                maybe_appended = true;
                                self.leader_clients.lock().await.remove(&l);
                                tracing::warn!(leader = l, code = ?status.code(), "forwarded write failed, retrying");
                            }
                        }
                    }
                }
                None => {}
            }
            if Instant::now() >= deadline {
                return Err(if maybe_appended {
                    WriteError::Uncertain
                } else {
                    WriteError::NoLeader
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the local replica reflects every write committed before this call (read-index
    /// through the leader), so a following read of [`RegionNode::state`] is linearizable.
    ///
    /// # Errors
    ///
    /// [`WriteError::NoLeader`] when leadership could not be confirmed with a quorum in time.
    pub async fn read_barrier(&self) -> Result<(), WriteError> {
        let deadline = Instant::now() + self.request_timeout;
        loop {
            let leader = self.raft.current_leader().await;
            let read_index: Option<Option<u64>> = match leader {
                Some(l) if l == self.id => {
                    match tokio::time::timeout_at(deadline, self.raft.ensure_linearizable()).await {
                        Ok(Ok(log_id)) => {
                            return self.wait_applied(log_id.map(|l| l.index), deadline).await;
                        }
                        Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(_)))) => {
                            None
                        }
                        Ok(Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(_)))) => {
                            None
                        }
                        Ok(Err(RaftError::Fatal(_))) => return Err(WriteError::Stopped),
                        Err(_) => return Err(WriteError::NoLeader),
                    }
                }
                Some(l) => self.remote_read_index(l, deadline).await,
                None => None,
            };
            if let Some(index) = read_index {
                return self.wait_applied(index, deadline).await;
            }
            if Instant::now() >= deadline {
                return Err(WriteError::NoLeader);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn remote_read_index(&self, leader: NodeId, deadline: Instant) -> Option<Option<u64>> {
        let mut client = self.leader_client(leader).await?;
        let mut req = tonic::Request::new(RaftRequest {
            region: self.region.to_string(),
            payload: Vec::new(),
        });
        req.set_timeout(deadline.saturating_duration_since(Instant::now()));
        match client.read_index(req).await {
            Ok(reply) => match decode::<ForwardReply<Option<u64>>>(&reply.into_inner().payload) {
                Ok(ForwardReply::Done(index)) => Some(index),
                _ => None,
            },
            Err(_) => {
                self.leader_clients.lock().await.remove(&leader);
                None
            }
        }
    }

    async fn wait_applied(&self, index: Option<u64>, deadline: Instant) -> Result<(), WriteError> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        self.raft
            .wait(Some(timeout))
            .applied_index_at_least(index, "read barrier")
            .await
            .map(|_| ())
            .map_err(|_| WriteError::NoLeader)
    }
}

/// Proposals handed to openraft and not yet answered.
pub(crate) const MAX_IN_FLIGHT: usize = 4;
/// Commands in one proposal at most.
pub(crate) const MAX_COMMANDS: usize = 128;
/// Encoded bytes of the commands of one proposal at most (a single larger command still goes
/// alone). With openraft's `max_payload_entries` (set by the node) this bounds a replication
/// message well under the gRPC limit.
pub(crate) const MAX_BYTES: usize = 256 * 1024;

/// Why a proposal was not applied.
#[derive(Debug, Clone)]
pub(crate) enum ProposeError {
    /// This node is not the leader (nothing was appended); the known leader, if any.
    ForwardToLeader(Option<NodeId>),
    /// openraft refused the write for a membership reason (not expected for normal writes).
    Membership(String),
    /// The Raft node or the proposer stopped; the outcome is unknown.
    Stopped,
}

type Reply = oneshot::Sender<Result<(u64, CommandResponse), ProposeError>>;

/// Handle on the node's proposer task.
#[derive(Debug, Clone)]
pub(crate) struct Proposer {
    queue: mpsc::UnboundedSender<(CommandEnvelope, Reply)>,
}

impl Proposer {
    /// Starts the proposer of `raft`, stamping commands with `clock`; it stops when every handle
    /// is dropped.
    pub(crate) fn start(raft: Raft<TypeConfig>, clock: Clock, max_skew_ms: i64) -> Proposer {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(raft, clock, max_skew_ms, rx));
        Proposer { queue }
    }

    /// Proposes `env` in the next batch and returns the log index of its entry and its response.
    /// Dropping the future abandons the answer, not the write (it may still be applied).
    pub(crate) async fn propose(
        &self,
        env: CommandEnvelope,
    ) -> Result<(u64, CommandResponse), ProposeError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((env, reply)).map_err(|_| ProposeError::Stopped)?;
        answer.await.map_err(|_| ProposeError::Stopped)?
    }
}

async fn run(
    raft: Raft<TypeConfig>,
    clock: Clock,
    max_skew_ms: i64,
    mut rx: mpsc::UnboundedReceiver<(CommandEnvelope, Reply)>,
) {
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        // Wait for a free slot first: the writes that arrive meanwhile form the next batch.
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut bytes = encoded_len(&first.0);
        let mut batch = vec![first];
        while batch.len() < MAX_COMMANDS && bytes < MAX_BYTES {
            match rx.try_recv() {
                Ok(next) => {
                    bytes += encoded_len(&next.0);
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let raft = raft.clone();
        let clock = clock.clone();
        tokio::spawn(async move {
            let (mut commands, replies): (Vec<CommandEnvelope>, Vec<_>) = batch.into_iter().unzip();
            // The leader's clock bounds the proposer's: a peer cannot choose the time that decides
            // whether a deletion or rotation is due (a non-leader's append is refused anyway).
            let now = clock();
            for env in &mut commands {
                if env.meta.at_ms.abs_diff(now) > max_skew_ms.unsigned_abs() {
                    env.meta.at_ms = now;
                }
            }
            let result = raft.client_write(Proposal { commands }).await;
            drop(slot);
            match result {
                Ok(resp) => {
                    let index = resp.log_id.index;
                    for (reply, response) in replies.into_iter().zip(resp.data) {
                        let _ = reply.send(Ok((index, response)));
                    }
                }
                Err(e) => {
                    let err = match e {
                        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
                            ProposeError::ForwardToLeader(f.leader_id)
                        }
                        RaftError::APIError(ClientWriteError::ChangeMembershipError(e)) => {
                            ProposeError::Membership(e.to_string())
                        }
                        RaftError::Fatal(_) => ProposeError::Stopped,
                    };
                    for reply in replies {
                        let _ = reply.send(Err(err.clone()));
                    }
                }
            }
        });
    }
}

impl Voters for RegionNode {
    fn voters(&self) -> Vec<(NodeId, String)> {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        membership
            .voter_ids()
            .filter_map(|id| membership.get_node(&id).map(|n| (id, n.addr.clone())))
            .collect()
    }
}

/// The wall clock (Unix milliseconds), which the API's timestamp window is measured on.
pub(crate) fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
