//! Cluster-wide replay protection for requests that apply does not see (reads and the data plane):
//! a request's (AccessKey id, SignatureNonce) is claimed at a majority of the region's voters.
//!
//! Every voter keeps a [`NonceCache`] (its own vote; on a node the same cache the API checks
//! first). A process serving a signed read or data-plane request sends the claim to the voters
//! (`RaftService.ClaimNonces`, batched per peer) and accepts the request once a majority answered
//! *fresh*; any *replayed* answer refuses it. Two majorities always share a voter, so a request
//! accepted once — by any node or worker — is refused when replayed to any other node or worker,
//! as long as the voters that recorded the first claim keep their memory (a restarted voter has
//! forgotten its claims: docs/SECURITY.md states the guarantee exactly). When no majority answers
//! the request is refused (fail closed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc};
use tonic::transport::Channel;
use yaoshi_store::NodeId;
use yaoshi_store::codec::{decode, encode};

use crate::network::client_for;
use crate::nonces::NonceCheck;
use crate::pb::{RaftRequest, RaftServiceClient};
use crate::tls::SharedTls;

/// Claims per `ClaimNonces` call at most (a peer refuses larger batches).
pub const MAX_CLAIMS_PER_CALL: usize = 512;
/// Calls in flight to one peer at once; claims arriving meanwhile wait and form the next batch.
const IN_FLIGHT_PER_PEER: usize = 4;
/// Claims waiting for one peer at most; beyond it the peer counts as not answering.
const QUEUE_PER_PEER: usize = 8192;

/// One request's claim, as sent to a voter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NonceClaim {
    /// The request's AccessKey id.
    pub access_key_id: String,
    /// Its SignatureNonce.
    pub nonce: String,
    /// Its signed timestamp (Unix milliseconds): the voter keeps the claim until it leaves the
    /// replay window.
    pub timestamp_ms: i64,
}

/// The current voters of the region with their gRPC addresses.
pub trait Voters: Send + Sync + std::fmt::Debug {
    /// Voter ids and gRPC addresses (`host:port`); empty when not known yet.
    fn voters(&self) -> Vec<(NodeId, String)>;
}

/// What a quorum said about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumAnswer {
    /// A majority of the voters recorded it as new.
    Fresh,
    /// A voter had seen it: a replay.
    Replayed,
    /// No majority, and some voter's cache was full (shed load).
    Full,
    /// No majority answered in time (fail closed).
    Unavailable,
}

/// The claiming side: asks the voters, one batching task per peer.
#[derive(Debug)]
pub struct NonceQuorum {
    region: String,
    tls: SharedTls,
    /// This process's own voter id (a node), whose vote is its local cache, already checked.
    own: Option<NodeId>,
    voters: Arc<dyn Voters>,
    peers: Mutex<HashMap<NodeId, PeerLink>>,
    timeout: Duration,
}

#[derive(Debug)]
struct PeerLink {
    addr: String,
    tx: mpsc::Sender<Pending>,
}

#[derive(Debug)]
struct Pending {
    claim: NonceClaim,
    /// Dropped unanswered when the call fails.
    answer: mpsc::Sender<NonceCheck>,
}

impl NonceQuorum {
    /// A quorum client for `region`: `own` is this node's id when it may itself be a voter (its
    /// local check stands for its vote), `None` in a worker.
    pub fn new(
        region: &str,
        tls: SharedTls,
        own: Option<NodeId>,
        voters: Arc<dyn Voters>,
        timeout: Duration,
    ) -> NonceQuorum {
        NonceQuorum {
            region: region.to_string(),
            tls,
            own,
            voters,
            peers: Mutex::new(HashMap::new()),
            timeout,
        }
    }

    /// Claims `claim` at a majority of the voters. The caller has already recorded it in its own
    /// cache as fresh (on a node, that is its vote).
    pub async fn claim(&self, claim: NonceClaim) -> QuorumAnswer {
        let voters = self.voters.voters();
        if voters.is_empty() {
            return QuorumAnswer::Unavailable;
        }
        let need = voters.len() / 2 + 1;
        let mut fresh = usize::from(self.own.is_some_and(|own| voters.iter().any(|v| v.0 == own)));
        if fresh >= need {
            return QuorumAnswer::Fresh;
        }
        let (tx, mut rx) = mpsc::channel(voters.len());
        for (id, addr) in voters.iter().filter(|v| Some(v.0) != self.own) {
            let link = self.link(*id, addr);
            // A full queue means the peer is not keeping up: it does not answer this claim.
            let _ = link.try_send(Pending { claim: claim.clone(), answer: tx.clone() });
        }
        drop(tx);
        let mut full = false;
        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                answer = rx.recv() => match answer {
                    Some(NonceCheck::Fresh) => {
                        fresh += 1;
                        if fresh >= need {
                            return QuorumAnswer::Fresh;
                        }
                    }
                    Some(NonceCheck::Replayed) => return QuorumAnswer::Replayed,
                    Some(NonceCheck::Full) => full = true,
                    None => break,
                },
                () = &mut deadline => break,
            }
        }
        if full { QuorumAnswer::Full } else { QuorumAnswer::Unavailable }
    }

    /// The queue of the batching task for voter `id` at `addr`, started (or restarted after an
    /// address change) on first use.
    fn link(&self, id: NodeId, addr: &str) -> mpsc::Sender<Pending> {
        let mut peers = self.peers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(link) = peers.get(&id)
            && link.addr == addr
            && !link.tx.is_closed()
        {
            return link.tx.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE_PER_PEER);
        let name = crate::tls::node_name(&self.region, id);
        match client_for(addr, self.tls.as_deref(), &name) {
            Ok(client) => {
                tokio::spawn(run_peer(client, self.region.clone(), rx, self.timeout));
            }
            Err(e) => tracing::warn!(peer = id, error = %e, "bad voter address"),
        }
        peers.insert(id, PeerLink { addr: addr.to_string(), tx: tx.clone() });
        tx
    }
}

/// Sends the claims queued for one peer in batches: whatever waits when a call slot frees up goes
/// in the next call, so batches grow with load and stay single under light load.
async fn run_peer(
    client: RaftServiceClient<Channel>,
    region: String,
    mut rx: mpsc::Receiver<Pending>,
    timeout: Duration,
) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT_PER_PEER));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut batch = vec![first];
        while batch.len() < MAX_CLAIMS_PER_CALL {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let mut client = client.clone();
        let region = region.clone();
        tokio::spawn(async move {
            let claims: Vec<&NonceClaim> = batch.iter().map(|p| &p.claim).collect();
            let mut request = tonic::Request::new(RaftRequest { region, payload: encode(&claims) });
            request.set_timeout(timeout);
            let answers: Option<Vec<NonceCheck>> = match client.claim_nonces(request).await {
                Ok(reply) => decode(&reply.into_inner().payload).ok(),
                Err(status) => {
                    tracing::debug!(code = ?status.code(), "nonce claim call failed");
                    None
                }
            };
            if let Some(answers) = answers.filter(|a| a.len() == batch.len()) {
                for (pending, answer) in batch.iter().zip(answers) {
                    let _ = pending.answer.try_send(answer);
                }
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed(Vec<(NodeId, String)>);

    impl Voters for Fixed {
        fn voters(&self) -> Vec<(NodeId, String)> {
            self.0.clone()
        }
    }

    fn claim() -> NonceClaim {
        NonceClaim { access_key_id: "ak".into(), nonce: "n".into(), timestamp_ms: 0 }
    }

    #[tokio::test]
    async fn a_sole_voter_decides_alone_and_no_voters_fail_closed() {
        let t = Duration::from_millis(200);
        let alone = Arc::new(Fixed(vec![(1, "127.0.0.1:1".into())]));
        let q = NonceQuorum::new("r", None, Some(1), alone.clone(), t);
        assert_eq!(q.claim(claim()).await, QuorumAnswer::Fresh);
        // A worker (no vote of its own) cannot reach the only voter: refused, not accepted.
        let q = NonceQuorum::new("r", None, None, alone, t);
        assert_eq!(q.claim(claim()).await, QuorumAnswer::Unavailable);
        let q = NonceQuorum::new("r", None, Some(1), Arc::new(Fixed(vec![])), t);
        assert_eq!(q.claim(claim()).await, QuorumAnswer::Unavailable);
    }

    #[tokio::test]
    async fn one_vote_of_three_is_not_a_majority() {
        let voters = (1..=3).map(|i| (i, "127.0.0.1:1".to_string())).collect();
        let q = NonceQuorum::new(
            "r",
            None,
            Some(1),
            Arc::new(Fixed(voters)),
            Duration::from_millis(300),
        );
        assert_eq!(q.claim(claim()).await, QuorumAnswer::Unavailable);
    }
}
