//! The scheduler: scheduled deletion, automatic rotation, expiry of imported material and of
//! import tokens, executed exactly once cluster-wide.
//!
//! It runs in every node but acts only on the region's Raft leader. Each tick it confirms its
//! leadership with a read barrier, finds due work in the local replica ([`StateReader::due_work`]),
//! and proposes ordinary commands that carry their preconditions (`PurgeKey { expected_delete_ms }`,
//! `RotateKey { expected_next_rotation_ms, version }`, …). Apply refuses a command whose
//! precondition no longer holds as a recorded no-op, so a duplicate proposal — a deposed leader
//! that has not noticed yet, a new leader that has not applied its predecessor's last commands,
//! a retry after an uncertain write — changes nothing. Nothing outside the committed log decides:
//! the scheduler only suggests, apply decides against the proposer's time carried in the command.
//!
//! Before every proposal it checks that it is still the leader, so it stops the moment leadership
//! is lost. Counters (`metrics`): `yaoshi_scheduler_proposed_total`,
//! `yaoshi_scheduler_applied_total`, `yaoshi_scheduler_stale_total` (refused as stale) and
//! `yaoshi_scheduler_rejected_total`, each labelled with the command; the same totals are kept in
//! [`SchedulerStats`] and logged.
//!
//! [`StateReader::due_work`]: yaoshi_store::StateReader::due_work

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use yaoshi_crypto::{DomainKey, KeyType, generate_key};
use yaoshi_model::{
    Command, CommandEnvelope, CommandMeta, CommandOutput, KeyMetadata, KeyVersion, KeyVersionId,
};
use yaoshi_raft::{RegionNode, WriteError};

mod secrets;

/// KMS time, Unix milliseconds (the API's clock, so tests can run it fast).
pub type Now = Arc<dyn Fn() -> i64 + Send + Sync>;

/// At most this many items of each kind are proposed per tick, bounding a tick's length.
const BATCH: usize = 256;

/// Totals since start, for logs and tests.
#[derive(Debug, Default)]
pub struct SchedulerStats {
    /// Commands proposed.
    pub proposed: AtomicU64,
    /// Commands applied (their precondition held).
    pub applied: AtomicU64,
    /// Commands refused as stale (recorded no-ops).
    pub stale: AtomicU64,
    /// Commands rejected with an API error (not expected).
    pub rejected: AtomicU64,
}

/// Why a tick stopped early.
#[derive(Debug)]
enum TickError {
    /// Leadership was lost or never confirmed.
    NotLeader,
    /// A write's outcome is unknown or the node stopped; the next tick re-reads state.
    Write(WriteError),
    /// The local state could not be read.
    State(String),
}

impl std::fmt::Display for TickError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TickError::NotLeader => write!(f, "not the leader"),
            TickError::Write(e) => write!(f, "write failed: {e}"),
            TickError::State(e) => write!(f, "state read failed: {e}"),
        }
    }
}

/// The scheduler of one region node.
pub struct Scheduler {
    node: Arc<RegionNode>,
    domain_key: DomainKey,
    now: Now,
    tick: Duration,
    /// Gives Generic secrets their rotated values when configured.
    rotation_hook: Option<Arc<yaoshi_rotation::RotationHook>>,
    /// Totals since start.
    pub stats: Arc<SchedulerStats>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").field("node", &self.node.id).field("tick", &self.tick).finish()
    }
}

impl Scheduler {
    /// A scheduler for `node`, wrapping new key material under `domain_key`, reading KMS time from
    /// `now`, looking for due work every `tick`.
    pub fn new(
        node: Arc<RegionNode>,
        domain_key: DomainKey,
        now: Now,
        tick: Duration,
    ) -> Scheduler {
        let stats = Arc::new(SchedulerStats::default());
        Scheduler { node, domain_key, now, tick, rotation_hook: None, stats }
    }

    /// Generic secrets rotate to the values `hook` prints instead of random passwords.
    pub fn with_rotation_hook(mut self, hook: Option<Arc<yaoshi_rotation::RotationHook>>) -> Self {
        self.rotation_hook = hook;
        self
    }

    /// Runs forever: every tick, if this node is the leader, proposes the due work.
    pub async fn run(self) {
        let mut ticker = tokio::time::interval(self.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if !self.node.is_leader() {
                continue;
            }
            match self.tick_once().await {
                Ok(0) | Err(TickError::NotLeader) => {}
                Ok(n) => tracing::info!(
                    proposed = n,
                    applied_total = self.stats.applied.load(Ordering::Relaxed),
                    stale_total = self.stats.stale.load(Ordering::Relaxed),
                    "scheduled work proposed"
                ),
                Err(e) => tracing::warn!(error = %e, "scheduler tick stopped"),
            }
        }
    }

    /// One pass: barrier, find due work, propose it. Returns how many commands were proposed.
    async fn tick_once(&self) -> Result<usize, TickError> {
        // The leader's replica must reflect everything committed before it looks for work, or it
        // would re-propose what its predecessor already did (harmless, but noise).
        self.node.read_barrier().await.map_err(|_| TickError::NotLeader)?;
        let due = self
            .node
            .state
            .due_work((self.now)(), BATCH)
            .map_err(|e| TickError::State(e.to_string()))?;
        let mut proposed = 0;
        for (key_id, expected_delete_ms, aliases) in due.purges {
            self.propose(Command::PurgeKey { key_id, expected_delete_ms, aliases }).await?;
            proposed += 1;
        }
        for (key, expected_next_rotation_ms) in due.rotations {
            let Some(version) = self.new_version(&key) else { continue };
            let key_id = key.key_id.clone();
            self.propose(Command::RotateKey { key_id, expected_next_rotation_ms, version }).await?;
            proposed += 1;
        }
        for (key_id, expected_expire_ms) in due.expiries {
            self.propose(Command::ExpireKeyMaterial { key_id, expected_expire_ms }).await?;
            proposed += 1;
        }
        if !due.expired_tokens.is_empty() {
            self.propose(Command::PurgeImportTokens { tokens: due.expired_tokens }).await?;
            proposed += 1;
        }
        for (name, expected_delete_ms) in due.secret_purges {
            self.propose(Command::PurgeSecret { name, expected_delete_ms }).await?;
            proposed += 1;
        }
        for (secret, expected_next_rotation_ms) in due.secret_rotations {
            let (state, hook) = (&self.node.state, self.rotation_hook.as_deref());
            let now = (self.now)();
            match secrets::rotated_version(state, &self.domain_key, hook, &secret, now).await {
                Ok(version) => {
                    let name = secret.name.clone();
                    let command =
                        Command::AutoRotateSecret { name, expected_next_rotation_ms, version };
                    self.propose(command).await?;
                    proposed += 1;
                }
                Err(skip) => {
                    tracing::warn!(secret = %secret.name, reason = skip.0, "secret rotation skipped");
                }
            }
        }
        for (secret, pending) in due.pending_rotations {
            proposed += self.finish_pending(&secret, pending).await?;
        }
        Ok(proposed)
    }

    /// Finishes a managed secret's pending rotation through the rotation backend; returns how
    /// many commands were proposed.
    async fn finish_pending(
        &self,
        secret: &yaoshi_model::SecretMetadata,
        pending: String,
    ) -> Result<usize, TickError> {
        let outcome = secrets::finish(&self.node.state, &self.domain_key, secret, &pending).await;
        match outcome {
            Ok(succeeded) => {
                let name = secret.name.clone();
                let command =
                    Command::FinishSecretRotation { name, version_id: pending, succeeded };
                self.propose(command).await?;
                Ok(1)
            }
            Err(skip) => {
                tracing::warn!(secret = %secret.name, reason = skip.0, "pending rotation not finished");
                Ok(0)
            }
        }
    }

    /// Fresh wrapped material for a rotation of `key` (symmetric keys only rotate).
    fn new_version(&self, key: &KeyMetadata) -> Option<KeyVersion> {
        let version_id = KeyVersionId::new(uuid::Uuid::now_v7().to_string());
        let material = match generate_key(KeyType::from(key.spec)) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(key_id = %key.key_id, error = %e, "rotation: key generation failed");
                return None;
            }
        };
        let wrapped =
            self.domain_key.wrap(&KeyVersion::wrap_aad(&key.key_id, &version_id), &material);
        Some(KeyVersion {
            key_id: key.key_id.clone(),
            version_id,
            creation_ms: (self.now)(),
            wrapped_material: wrapped,
            material_digest: Vec::new(),
        })
    }

    /// Proposes one command as the leader (never forwarded) and counts what became of it.
    async fn propose(&self, command: Command) -> Result<(), TickError> {
        if !self.node.is_leader() {
            return Err(TickError::NotLeader);
        }
        let name = command.name();
        let target = command.target().unwrap_or_default();
        let env = CommandEnvelope {
            meta: CommandMeta {
                request_id: format!("scheduler-{}", uuid::Uuid::new_v4()),
                principal: None,
                nonce: None,
                at_ms: (self.now)(),
            },
            command,
        };
        self.stats.proposed.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("yaoshi_scheduler_proposed_total", "command" => name).increment(1);
        match self.node.write_as_leader(env).await {
            Ok(Ok(CommandOutput::NoOp)) => {
                self.stats.stale.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("yaoshi_scheduler_stale_total", "command" => name).increment(1);
                tracing::debug!(command = name, target = %target, "scheduled command was stale");
            }
            Ok(Ok(_)) => {
                self.stats.applied.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("yaoshi_scheduler_applied_total", "command" => name).increment(1);
                tracing::info!(command = name, target = %target, "scheduled command applied");
            }
            Ok(Err(e)) => {
                self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("yaoshi_scheduler_rejected_total", "command" => name)
                    .increment(1);
                tracing::warn!(command = name, target = %target, code = e.code.as_str(), "scheduled command rejected");
            }
            Err(WriteError::NoLeader) => return Err(TickError::NotLeader),
            Err(e) => return Err(TickError::Write(e)),
        }
        Ok(())
    }
}
