//! The worker's in-memory cache and the loop that feeds it.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use tokio_stream::StreamExt;
use yaoshi_model::{
    AccessPoint, Alias, CertificateMetadata, Credential, KeyId, KeyMetadata, KeyVersion,
    KeyVersionId, SecretMetadata, SecretRecord, SecretVersion,
};
use yaoshi_raft::NodeId;
use yaoshi_raft::claims::Voters;
use yaoshi_raft::feed::{FeedEvent, KeyRecord, watch};

use crate::{Replica, ReplicaError};

#[derive(Debug, Default)]
struct Records {
    keys: HashMap<String, KeyRecord>,
    aliases: HashMap<String, Alias>,
    credentials: HashMap<String, Credential>,
    access_points: HashMap<String, AccessPoint>,
    secrets: HashMap<String, SecretRecord>,
    certificates: HashMap<String, CertificateMetadata>,
    /// Moves whenever `access_points` changes.
    access_generation: u64,
    /// The node's HTTP address (from Hello), for control-plane forwarding.
    http_addr: Option<String>,
    /// The region's voters (from the feed), where nonces are claimed.
    voters: Vec<(NodeId, String)>,
    /// When the stream last delivered anything; `None` until a full state has arrived.
    last_heard: Option<Instant>,
    /// A full state being received (replaces `keys`… at StateEnd).
    incoming: Option<Incoming>,
}

/// A full state being received.
#[derive(Debug, Default)]
struct Incoming {
    keys: Vec<KeyRecord>,
    aliases: Vec<Alias>,
    credentials: Vec<Credential>,
    access_points: Vec<AccessPoint>,
    secrets: Vec<SecretRecord>,
    certificates: Vec<CertificateMetadata>,
}

/// Keys (with wrapped material), aliases, credentials, access points, secrets and certificates of
/// one region, as last streamed by a node.
#[derive(Debug)]
pub struct KeyCache {
    records: RwLock<Records>,
    staleness: Duration,
}

impl KeyCache {
    /// An empty cache that counts as fresh for `staleness` after each message of the feed.
    pub fn new(staleness: Duration) -> KeyCache {
        KeyCache { records: RwLock::new(Records::default()), staleness }
    }

    /// The HTTP address of the node feeding the cache, once known.
    pub fn http_addr(&self) -> Option<String> {
        self.read().http_addr.clone()
    }

    /// Number of cached keys.
    pub fn key_count(&self) -> usize {
        self.read().keys.len()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Records> {
        self.records.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Records> {
        self.records.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies one feed message.
    fn apply(&self, event: FeedEvent) {
        let mut r = self.write();
        match event {
            FeedEvent::Hello { http_addr } => {
                r.http_addr = Some(http_addr);
                r.incoming = Some(Default::default());
            }
            FeedEvent::State {
                keys,
                aliases,
                credentials,
                access_points,
                secrets,
                certificates,
            } => {
                let incoming = r.incoming.get_or_insert_with(Default::default);
                incoming.keys.extend(keys);
                incoming.aliases.extend(aliases);
                incoming.credentials.extend(credentials);
                incoming.access_points.extend(access_points);
                incoming.secrets.extend(secrets);
                incoming.certificates.extend(certificates);
            }
            FeedEvent::StateEnd { .. } => {
                let Incoming { keys, aliases, credentials, access_points, secrets, certificates } =
                    r.incoming.take().unwrap_or_default();
                r.certificates =
                    certificates.into_iter().map(|c| (c.certificate_id.clone(), c)).collect();
                r.secrets = secrets.into_iter().map(|s| (s.0.name.clone(), s)).collect();
                r.access_points = access_points.into_iter().map(|a| (a.name.clone(), a)).collect();
                r.access_generation += 1;
                r.keys = keys.into_iter().map(|k| (k.0.key_id.to_string(), k)).collect();
                r.aliases = aliases.into_iter().map(|a| (a.name.clone(), a)).collect();
                r.credentials =
                    credentials.into_iter().map(|c| (c.access_key_id.to_string(), c)).collect();
                r.last_heard = Some(Instant::now());
            }
            FeedEvent::Update {
                keys,
                aliases,
                credentials,
                access_points,
                secrets,
                certificates,
                ..
            } => {
                for (id, certificate) in certificates {
                    match certificate {
                        Some(c) => r.certificates.insert(id, c),
                        None => r.certificates.remove(&id),
                    };
                }
                for (name, record) in secrets {
                    match record {
                        Some(record) => r.secrets.insert(name, record),
                        None => r.secrets.remove(&name),
                    };
                }
                for (id, record) in keys {
                    match record {
                        Some(record) => r.keys.insert(id.to_string(), record),
                        None => r.keys.remove(id.as_str()),
                    };
                }
                for (name, alias) in aliases {
                    match alias {
                        Some(alias) => r.aliases.insert(name, alias),
                        None => r.aliases.remove(&name),
                    };
                }
                for (id, credential) in credentials {
                    match credential {
                        Some(c) => r.credentials.insert(id, c),
                        None => r.credentials.remove(&id),
                    };
                }
                if !access_points.is_empty() {
                    r.access_generation += 1;
                }
                for (name, access_point) in access_points {
                    match access_point {
                        Some(a) => r.access_points.insert(name, a),
                        None => r.access_points.remove(&name),
                    };
                }
                if r.incoming.is_none() {
                    r.last_heard = Some(Instant::now());
                }
            }
            FeedEvent::Voters { voters } => {
                r.voters = voters;
                if r.incoming.is_none() && r.last_heard.is_some() {
                    r.last_heard = Some(Instant::now());
                }
            }
            FeedEvent::Heartbeat => {
                if r.incoming.is_none() && r.last_heard.is_some() {
                    r.last_heard = Some(Instant::now());
                }
            }
        }
    }
}

impl Voters for KeyCache {
    fn voters(&self) -> Vec<(NodeId, String)> {
        self.read().voters.clone()
    }
}

impl Replica for KeyCache {
    fn key(&self, key_id: &str) -> Result<Option<KeyMetadata>, ReplicaError> {
        Ok(self.read().keys.get(key_id).map(|(meta, _)| meta.clone()))
    }

    fn key_version(
        &self,
        key_id: &KeyId,
        version_id: &KeyVersionId,
    ) -> Result<Option<KeyVersion>, ReplicaError> {
        Ok(self
            .read()
            .keys
            .get(key_id.as_str())
            .and_then(|(_, versions)| versions.iter().find(|v| v.version_id == *version_id))
            .cloned())
    }

    fn alias(&self, name: &str) -> Result<Option<Alias>, ReplicaError> {
        Ok(self.read().aliases.get(name).cloned())
    }

    fn credential(&self, access_key_id: &str) -> Result<Option<Credential>, ReplicaError> {
        Ok(self.read().credentials.get(access_key_id).cloned())
    }

    fn access_point(&self, name: &str) -> Result<Option<AccessPoint>, ReplicaError> {
        Ok(self.read().access_points.get(name).cloned())
    }

    fn secret(&self, name: &str) -> Result<Option<SecretMetadata>, ReplicaError> {
        Ok(self.read().secrets.get(name).map(|(meta, _)| meta.clone()))
    }

    fn secret_version(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<SecretVersion>, ReplicaError> {
        Ok(self
            .read()
            .secrets
            .get(name)
            .and_then(|(_, versions)| versions.iter().find(|v| v.version_id == version_id))
            .cloned())
    }

    fn certificate(
        &self,
        certificate_id: &str,
    ) -> Result<Option<CertificateMetadata>, ReplicaError> {
        Ok(self.read().certificates.get(certificate_id).cloned())
    }

    fn access_generation(&self) -> u64 {
        self.read().access_generation
    }

    fn fresh(&self) -> bool {
        self.read().last_heard.is_some_and(|t| t.elapsed() <= self.staleness)
    }
}

/// Keeps `cache` fed from the node at `addr` (gRPC) for `region`, forever: on any stream error it
/// reconnects (every 200 ms) and receives the full state again. While disconnected the cache goes
/// stale after its bound. With `tls` the worker presents its certificate and accepts only a node
/// of `region` as the server.
pub async fn run_feed(
    cache: std::sync::Arc<KeyCache>,
    addr: String,
    region: String,
    tls: Option<std::sync::Arc<yaoshi_raft::ClusterTls>>,
) {
    loop {
        match watch(&addr, &region, tls.as_deref()).await {
            Ok(stream) => {
                tracing::info!(%addr, "worker feed connected");
                tokio::pin!(stream);
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(event) => cache.apply(event),
                        Err(status) => {
                            tracing::warn!(%addr, error = %status, "worker feed broke");
                            break;
                        }
                    }
                }
                tracing::warn!(%addr, "worker feed ended; reconnecting");
            }
            Err(status) => tracing::debug!(%addr, error = %status, "worker feed unavailable"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
