//! The proposer: group commit for the region's writes.
//!
//! openraft 0.9 turns every `client_write` into a log entry of its own and appends it with its own
//! fsync before it looks at the next one (`RaftCore::append_to_log` awaits the flush). So that one
//! append and one fsync carry many writes, every write of this node goes through the proposer,
//! which packs the writes waiting at that moment into one [`Proposal`] (one log entry; the state
//! machine applies its commands in order, each with its own effects, response and audit event).
//!
//! At most [`MAX_IN_FLIGHT`] proposals are in openraft at a time; writes that arrive meanwhile
//! queue here and leave together in the next proposal. A lone write leaves at once (no added
//! delay); under load the batch grows with the number of waiting writers, up to [`MAX_COMMANDS`]
//! commands or [`MAX_BYTES`] encoded bytes per entry.

use std::sync::Arc;

use openraft::Raft;
use openraft::error::{ClientWriteError, RaftError};
use tokio::sync::{Semaphore, mpsc, oneshot};
use yaoshi_model::{CommandEnvelope, CommandResponse, Proposal};
use yaoshi_store::codec::encode;
use yaoshi_store::{NodeId, TypeConfig};

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
    /// Starts the proposer of `raft`; it stops when every handle is dropped.
    pub(crate) fn start(raft: Raft<TypeConfig>) -> Proposer {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(raft, rx));
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

async fn run(raft: Raft<TypeConfig>, mut rx: mpsc::UnboundedReceiver<(CommandEnvelope, Reply)>) {
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        // Wait for a free slot first: the writes that arrive meanwhile form the next batch.
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut bytes = encode(&first.0).len();
        let mut batch = vec![first];
        while batch.len() < MAX_COMMANDS && bytes < MAX_BYTES {
            match rx.try_recv() {
                Ok(next) => {
                    bytes += encode(&next.0).len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let raft = raft.clone();
        tokio::spawn(async move {
            let (commands, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
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
