//! The worker feed (proto/worker.proto): a node streams its replica's keys, aliases, credentials,
//! access points, secrets and certificates to crypto workers, then every change as it is applied, with heartbeats.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use yaoshi_model::{
    AccessPoint, Alias, CertificateMetadata, Credential, KeyId, KeyMetadata, KeyVersion,
    SecretRecord,
};
use yaoshi_store::codec::{decode, encode};
use yaoshi_store::feed::Change;
use yaoshi_store::{NodeId, StateReader};

use crate::claims::Voters;
use crate::network::MAX_MESSAGE_BYTES;
use crate::node::RegionNode;
use crate::pb::worker::worker_feed_client::WorkerFeedClient;
use crate::pb::worker::worker_feed_server::{WorkerFeed, WorkerFeedServer};
use crate::pb::worker::{WatchEvent, WatchRequest};
use crate::tls::{ClusterTls, Need, Peer};

/// How often a node sends a heartbeat when nothing else happens.
pub const HEARTBEAT: Duration = Duration::from_millis(200);
/// Keys (and certificates) per snapshot chunk (bounds the message size).
const CHUNK: usize = 256;

/// A key with all its versions (material wrapped), or `None` when the key no longer exists.
pub type KeyRecord = (KeyMetadata, Vec<KeyVersion>);

/// One message of the feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FeedEvent {
    /// First message: where control-plane requests go, and a full state follows.
    Hello {
        /// The node's HTTP API address (`host:port`).
        http_addr: String,
    },
    /// Part of the full state (sent after Hello, and again after a reset or lag).
    State {
        /// Keys with their versions.
        keys: Vec<KeyRecord>,
        /// Aliases.
        aliases: Vec<Alias>,
        /// Credentials (secrets wrapped).
        credentials: Vec<Credential>,
        /// Access points with their policies.
        access_points: Vec<AccessPoint>,
        /// Secrets with their versions (values sealed).
        secrets: Vec<SecretRecord>,
        /// Certificates (private keys wrapped).
        certificates: Vec<CertificateMetadata>,
    },
    /// The full state has been sent, up to and including log index `applied`.
    StateEnd {
        /// Applied index the state reflects (at least).
        applied: u64,
    },
    /// Records changed by applied entries; `None` = gone.
    Update {
        /// Applied index after the change.
        applied: u64,
        /// Changed keys.
        keys: Vec<(KeyId, Option<KeyRecord>)>,
        /// Changed aliases by name.
        aliases: Vec<(String, Option<Alias>)>,
        /// Changed credentials by AccessKey id (`None`: revoked).
        credentials: Vec<(String, Option<Credential>)>,
        /// Changed access points by name.
        access_points: Vec<(String, Option<AccessPoint>)>,
        /// Changed secrets by name.
        secrets: Vec<(String, Option<SecretRecord>)>,
        /// Changed certificates by id.
        certificates: Vec<(String, Option<CertificateMetadata>)>,
    },
    /// Nothing changed; the stream is alive.
    Heartbeat,
    /// The region's voters and their gRPC addresses: sent after Hello and whenever they change
    /// (a worker claims nonces at a majority of them, [`crate::claims`]).
    Voters {
        /// Voter ids and gRPC addresses.
        voters: Vec<(NodeId, String)>,
    },
}

/// The feed server of one node.
#[derive(Debug, Clone)]
pub struct FeedGrpc {
    node: Arc<RegionNode>,
    http_addr: String,
}

impl FeedGrpc {
    /// The service for `node`, announcing `http_addr` for control-plane forwarding.
    pub fn server(node: Arc<RegionNode>, http_addr: String) -> WorkerFeedServer<FeedGrpc> {
        WorkerFeedServer::new(FeedGrpc { node, http_addr })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<WatchEvent, Status>> + Send>>;

fn event(e: &FeedEvent) -> Result<WatchEvent, Status> {
    Ok(WatchEvent { payload: encode(e) })
}

/// Sends the whole state in chunks, then StateEnd.
async fn send_state(
    state: &StateReader,
    applied: u64,
    tx: &mpsc::Sender<Result<WatchEvent, Status>>,
) -> Result<(), ()> {
    let read = || -> Result<_, yaoshi_store::QueryError> {
        let keys = state.keys_with_versions()?;
        let (aliases, _) = state.list_aliases(None, 0, usize::MAX)?;
        Ok((
            keys,
            aliases,
            state.credentials()?,
            state.access_points()?,
            state.secrets_with_versions()?,
            state.certificates()?,
        ))
    };
    let (keys, aliases, credentials, access_points, secrets, certificates) =
        read().map_err(|e| {
            tracing::error!(error = %e, "reading state for a worker failed");
        })?;
    let mut chunks = keys.chunks(CHUNK).map(<[KeyRecord]>::to_vec).collect::<Vec<_>>();
    if chunks.is_empty() {
        chunks.push(Vec::new());
    }
    let last = chunks.len() - 1;
    for (i, keys) in chunks.into_iter().enumerate() {
        let (aliases, credentials, access_points, secrets) = if i == last {
            (aliases.clone(), credentials.clone(), access_points.clone(), secrets.clone())
        } else {
            (vec![], vec![], vec![], vec![])
        };
        let certificates = Vec::new();
        let state =
            FeedEvent::State { keys, aliases, credentials, access_points, secrets, certificates };
        tx.send(event(&state)).await.map_err(|_| ())?;
    }
    // Certificates carry PEM chains (kilobytes each): chunked like keys.
    for chunk in certificates.chunks(CHUNK) {
        let state = FeedEvent::State {
            keys: vec![],
            aliases: vec![],
            credentials: vec![],
            access_points: vec![],
            secrets: vec![],
            certificates: chunk.to_vec(),
        };
        tx.send(event(&state)).await.map_err(|_| ())?;
    }
    tx.send(event(&FeedEvent::StateEnd { applied })).await.map_err(|_| ())
}

/// Re-reads the records named by `changes`.
fn update(state: &StateReader, applied: u64, changes: &[Change]) -> Result<FeedEvent, Status> {
    let internal = |e: yaoshi_store::QueryError| Status::internal(e.to_string());
    let (mut keys, mut aliases, mut credentials) = (Vec::new(), Vec::new(), Vec::new());
    let (mut access_points, mut secrets, mut certificates) = (Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        match change {
            Change::Key(id) => {
                let record = match state.key(id.as_str()).map_err(internal)? {
                    Some(meta) => {
                        let (versions, _) =
                            state.list_key_versions(id, 0, usize::MAX).map_err(internal)?;
                        Some((meta, versions))
                    }
                    None => None,
                };
                keys.push((id.clone(), record));
            }
            Change::Alias(name) => {
                aliases.push((name.clone(), state.alias(name).map_err(internal)?))
            }
            Change::Credential(id) => {
                credentials
                    .push((id.to_string(), state.credential(id.as_str()).map_err(internal)?));
            }
            Change::AccessPoint(name) => {
                access_points.push((name.clone(), state.access_point(name).map_err(internal)?));
            }
            Change::Secret(name) => {
                secrets.push((name.clone(), state.secret_record(name).map_err(internal)?));
            }
            Change::Certificate(id) => {
                certificates.push((id.clone(), state.certificate(id).map_err(internal)?));
            }
            Change::Reset => {}
        }
    }
    Ok(FeedEvent::Update {
        applied,
        keys,
        aliases,
        credentials,
        access_points,
        secrets,
        certificates,
    })
}

#[tonic::async_trait]
impl WorkerFeed for FeedGrpc {
    type WatchStream = EventStream;

    async fn watch(
        &self,
        req: Request<WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let peer = Peer::of(&req, self.node.tls.is_some())?;
        Peer::require(peer.as_ref(), self.node.region.as_str(), Need::Feed)?;
        if req.get_ref().region != self.node.region.as_str() {
            return Err(Status::invalid_argument("wrong region"));
        }
        let state = self.node.state.clone();
        let raft = self.node.raft.clone();
        // Subscribe before reading the state, so no change between the two is missed.
        let mut feed = state.subscribe();
        let (tx, rx) = mpsc::channel(64);
        let hello = FeedEvent::Hello { http_addr: self.http_addr.clone() };
        let node = self.node.clone();
        tokio::spawn(async move {
            let mut voters = node.voters();
            if tx.send(event(&hello)).await.is_err()
                || tx.send(event(&FeedEvent::Voters { voters: voters.clone() })).await.is_err()
            {
                return;
            }
            let applied = || raft.metrics().borrow().last_applied.map_or(0, |l| l.index);
            if send_state(&state, applied(), &tx).await.is_err() {
                return;
            }
            let mut beat = tokio::time::interval(HEARTBEAT);
            loop {
                let next = tokio::select! {
                    _ = beat.tick() => {
                        let now = node.voters();
                        if now == voters {
                            Ok(FeedEvent::Heartbeat)
                        } else {
                            voters = now;
                            Ok(FeedEvent::Voters { voters: voters.clone() })
                        }
                    }
                    got = feed.recv() => match got {
                        Ok(a) if a.changes.contains(&Change::Reset) => Err(a.index),
                        Ok(a) if a.changes.is_empty() => continue,
                        Ok(a) => update(&state, a.index, &a.changes).map_err(|_| a.index),
                        Err(RecvError::Lagged(_)) => Err(applied()),
                        Err(RecvError::Closed) => return,
                    },
                };
                let sent = match next {
                    Ok(e) => tx.send(event(&e)).await.map_err(|_| ()),
                    // A reset, a lag or a failed read: send the whole state again.
                    Err(index) => send_state(&state, index.max(applied()), &tx).await,
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Opens the feed of the node at `addr` (`host:port` of its gRPC listener) for `region`. With
/// `tls` the server must prove it is a node of `region`, so what the feed says (the control-plane
/// address of Hello included) comes from a verified node.
///
/// # Errors
///
/// Fails when the node cannot be reached or refuses the watch.
pub async fn watch(
    addr: &str,
    region: &str,
    tls: Option<&ClusterTls>,
) -> Result<impl Stream<Item = Result<FeedEvent, Status>> + Send + use<>, Status> {
    let endpoint = crate::tls::endpoint(addr, tls, &crate::tls::region_name(region))
        .map_err(|e| Status::invalid_argument(e.to_string()))?
        .connect_timeout(Duration::from_secs(2));
    let channel = endpoint.connect().await.map_err(|e| Status::unavailable(e.to_string()))?;
    let mut client = WorkerFeedClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let stream = client.watch(WatchRequest { region: region.to_string() }).await?.into_inner();
    Ok(tokio_stream::StreamExt::map(stream, |item| {
        let item = item?;
        decode(&item.payload).map_err(|e| Status::data_loss(format!("undecodable event: {e}")))
    }))
}
