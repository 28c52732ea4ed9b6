//! `ApiState`: what every request handler shares — the region, the node or a worker's cache, the
//! domain key, the clock and the caches of unwrapped secrets and material.

use std::sync::Arc;

use yaoshi_crypto::{DomainKey, KeyMaterial, SigningKey};
use yaoshi_model::{ApiError, ErrorCode, RegionId};
use yaoshi_raft::RegionNode;
use yaoshi_raft::claims::{NonceQuorum, Voters};
use yaoshi_raft::nonces::NonceCache;
use yaoshi_raft::tls::SharedTls;
use yaoshi_worker::{KeyCache, Replica};
use zeroize::Zeroizing;

use crate::clock::{Clock, TestClock};
use crate::limits::{ApiLimits, PrincipalRates, UnknownIdGate};
use crate::unwrapped::Unwrapped;

/// How long a nonce claim waits for a majority of the voters.
const CLAIM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The voters of a handler test's state: none (nothing goes through the pipeline).
#[cfg(test)]
#[derive(Debug)]
struct NoVoters;

#[cfg(test)]
impl Voters for NoVoters {
    fn voters(&self) -> Vec<(yaoshi_raft::NodeId, String)> {
        Vec::new()
    }
}

/// Everything request handlers share.
#[derive(Debug)]
pub struct ApiState {
    /// The region served.
    pub region: RegionId,
    /// The region node (Raft group member); `None` in a crypto worker.
    pub(crate) node: Option<Arc<RegionNode>>,
    /// Where the data plane and authentication read keys, aliases and credentials: the node's
    /// replica, or a worker's cache.
    pub replica: Arc<dyn Replica>,
    /// A worker's cache, whose node takes every non-data-plane request.
    pub(crate) worker: Option<Arc<KeyCache>>,
    /// HTTP client for forwarding (workers).
    pub(crate) forwarder: reqwest::Client,
    /// The region's domain key, which wraps key material and credential secrets.
    pub domain_key: DomainKey,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The controllable clock of test mode, `None` in production.
    pub(crate) test_clock: Option<Arc<TestClock>>,
    /// The request limits this process enforces.
    pub(crate) limits: ApiLimits,
    /// Requests being served now, bounded by `limits.max_concurrent_requests`.
    pub(crate) in_flight: tokio::sync::Semaphore,
    /// Per-principal request rates, bounded by `limits.per_principal_rps`.
    pub(crate) rates: PrincipalRates,
    /// Confirms unknown AccessKey ids with at most one read barrier per interval.
    pub(crate) unknown_ids: UnknownIdGate,
    /// SignatureNonces this process has seen (on a node, the node's own cache: its vote).
    pub(crate) nonces: Arc<NonceCache>,
    /// Claims the nonces of reads and data-plane requests at a majority of the voters.
    pub(crate) quorum: NonceQuorum,
    /// Unwrapped credential secrets, by wrapped secret.
    pub(crate) secrets: Unwrapped<Zeroizing<String>>,
    /// Unwrapped key material, by wrapped material.
    pub(crate) materials: Unwrapped<KeyMaterial>,
    /// Parsed signing keys of AsymmetricSign, by wrapped material.
    pub(crate) signing_keys: Unwrapped<SigningKey>,
    /// Compiled policies of the access points in use.
    pub(crate) policies: crate::policies::PolicyCache,
    /// The operator's rotation hook for Generic secrets (RotateSecret), if configured.
    pub(crate) rotation_hook: std::sync::OnceLock<Arc<yaoshi_rotation::RotationHook>>,
    /// The deployment's other regions (none: this region is the whole deployment).
    pub(crate) peer_regions: std::sync::OnceLock<Vec<crate::regions::PeerRegion>>,
}

impl ApiState {
    /// The shared state of a node's API.
    pub fn new(
        node: Arc<RegionNode>,
        domain_key: DomainKey,
        clock: Arc<dyn Clock>,
        limits: ApiLimits,
    ) -> Arc<ApiState> {
        ApiState::build(node, domain_key, clock, None, limits)
    }

    /// A crypto worker's shared state: data plane from `cache`, everything else forwarded to the
    /// node that feeds it.
    /// `tls` is the worker certificate it claims nonces at the voters with.
    pub fn worker(
        region: RegionId,
        cache: Arc<KeyCache>,
        domain_key: DomainKey,
        clock: Arc<dyn Clock>,
        limits: ApiLimits,
        tls: SharedTls,
    ) -> Arc<ApiState> {
        let replica: Arc<dyn Replica> = cache.clone();
        let voters: Arc<dyn Voters> = cache.clone();
        let quorum = NonceQuorum::new(region.as_str(), tls, None, voters, CLAIM_TIMEOUT);
        Arc::new(ApiState {
            region,
            node: None,
            replica,
            worker: Some(cache),
            forwarder: reqwest::Client::new(),
            domain_key,
            clock,
            test_clock: None,
            in_flight: tokio::sync::Semaphore::new(limits.max_concurrent_requests),
            rates: PrincipalRates::new(limits.per_principal_rps),
            unknown_ids: UnknownIdGate::default(),
            nonces: Arc::new(NonceCache::new(limits.nonce_cache_entries)),
            quorum,
            limits,
            secrets: Default::default(),
            materials: Default::default(),
            signing_keys: Default::default(),
            policies: Default::default(),
            rotation_hook: Default::default(),
            peer_regions: Default::default(),
        })
    }

    fn build(
        node: Arc<RegionNode>,
        domain_key: DomainKey,
        clock: Arc<dyn Clock>,
        test_clock: Option<Arc<TestClock>>,
        limits: ApiLimits,
    ) -> Arc<ApiState> {
        let replica: Arc<dyn Replica> = Arc::new(node.state.clone());
        let voters: Arc<dyn Voters> = node.clone();
        let nonces = node.nonces.clone();
        let quorum = NonceQuorum::new(
            node.region.as_str(),
            node.tls.clone(),
            Some(node.id),
            voters,
            CLAIM_TIMEOUT,
        );
        Arc::new(ApiState {
            region: node.region.clone(),
            node: Some(node),
            replica,
            worker: None,
            forwarder: reqwest::Client::new(),
            domain_key,
            clock,
            test_clock,
            in_flight: tokio::sync::Semaphore::new(limits.max_concurrent_requests),
            rates: PrincipalRates::new(limits.per_principal_rps),
            unknown_ids: UnknownIdGate::default(),
            nonces,
            quorum,
            limits,
            secrets: Default::default(),
            materials: Default::default(),
            signing_keys: Default::default(),
            policies: Default::default(),
            rotation_hook: Default::default(),
            peer_regions: Default::default(),
        })
    }

    /// The shared state of a data plane reading `replica` (as a worker does, without forwarding),
    /// for tests of the handlers.
    #[cfg(test)]
    pub(crate) fn for_tests(replica: Arc<dyn Replica>, domain_key: DomainKey) -> Arc<ApiState> {
        Arc::new(ApiState {
            region: RegionId::new("cn-hangzhou"),
            node: None,
            replica,
            worker: None,
            forwarder: reqwest::Client::new(),
            domain_key,
            clock: Arc::new(crate::clock::SystemClock),
            test_clock: None,
            in_flight: tokio::sync::Semaphore::new(16),
            rates: PrincipalRates::new(None),
            unknown_ids: UnknownIdGate::default(),
            nonces: Arc::new(NonceCache::new(1_000_000)),
            quorum: NonceQuorum::new("cn-hangzhou", None, None, Arc::new(NoVoters), CLAIM_TIMEOUT),
            limits: ApiLimits::default(),
            secrets: Default::default(),
            materials: Default::default(),
            signing_keys: Default::default(),
            policies: Default::default(),
            rotation_hook: Default::default(),
            peer_regions: Default::default(),
        })
    }

    /// RotateSecret of a Generic secret takes its value from `hook` (as the scheduler's automatic
    /// rotation does) instead of a random password. Set once, before serving; a second call is
    /// ignored.
    pub fn set_rotation_hook(&self, hook: Arc<yaoshi_rotation::RotationHook>) {
        let _ = self.rotation_hook.set(hook);
    }

    /// The deployment's other regions, where requests naming them are forwarded and which
    /// DescribeRegions lists. Set once, before serving; a second call is ignored.
    pub fn set_peer_regions(&self, peers: Vec<crate::regions::PeerRegion>) {
        let _ = self.peer_regions.set(peers);
    }

    /// The deployment's other regions.
    pub(crate) fn peer_regions(&self) -> &[crate::regions::PeerRegion] {
        self.peer_regions.get().map_or(&[], Vec::as_slice)
    }

    /// The region node, for control-plane handlers (a worker forwards those before dispatch).
    pub(crate) fn node(&self) -> Result<&Arc<RegionNode>, ApiError> {
        self.node.as_ref().ok_or_else(|| {
            tracing::error!("control-plane handler reached on a worker");
            ApiError::new(ErrorCode::InternalFailure)
        })
    }

    /// Test mode: the shared state with a [`TestClock`] as KMS time, and the
    /// `POST /_test/clock?AdvanceMs=N` route that moves it forward.
    pub fn with_test_clock(
        node: Arc<RegionNode>,
        domain_key: DomainKey,
        clock: Arc<TestClock>,
        limits: ApiLimits,
    ) -> Arc<ApiState> {
        ApiState::build(node, domain_key, clock.clone(), Some(clock), limits)
    }

    /// The region this API serves.
    pub(crate) fn region(&self) -> &str {
        self.region.as_str()
    }
}
