//! `RocksStateMachine`: openraft's `RaftStateMachine` whose state lives in RocksDB column families.
//!
//! A normal entry carries a [`yaoshi_model::Proposal`]: commands batched by the leader's proposer.
//! They are applied in order, each in its own RocksDB write batch (so a command reads the effects of
//! the ones before it) holding its effects, its audit event and the progress marker
//! `applying = (index, commands done)`; the last one's batch also advances `last_applied`. A crash
//! between two commands of an entry leaves the marker behind, and the re-apply of that entry at
//! startup skips the commands it counts, so every command takes effect exactly once.
//!
//! Each command first passes the replay check of signed requests (`apply/nonces.rs`), then
//! [`apply_change`] hands it to the function of its domain in `apply/` (see `apply/mod.rs`).
//!
//! Counters: `yaoshi_state_applied_entries_total` and `yaoshi_state_applied_commands_total`,
//! entries and commands applied by this process (the re-apply of committed entries at startup
//! included).

use std::io::Cursor;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, Entry, EntryPayload, LogId, RaftSnapshotBuilder, SnapshotMeta, StorageError,
    StorageIOError, StoredMembership,
};
use rocksdb::{WriteBatch, WriteOptions};
use sha2::{Digest, Sha256};
use yaoshi_model::{
    ApiError, AuditEvent, AuditOutcome, Command, CommandEnvelope, CommandOutput, CommandResponse,
    ErrorCode, ProposalResponse,
};

use crate::apply;
use crate::codec::{decode, encode};
use crate::db::{CF_AUDIT, CF_SM_META, OpenStoreError, RegionDb};
use crate::layout::{
    META_APPLYING, META_AUDIT_HEAD, META_LAST_APPLIED, META_MEMBERSHIP, audit_key, nonce_key,
};
use crate::snapshot;
use crate::{NodeId, TypeConfig};

type StorageResult<T> = Result<T, StorageError<NodeId>>;

/// The replicated state machine of one region.
#[derive(Debug, Clone)]
pub struct RocksStateMachine {
    db: RegionDb,
}

impl RocksStateMachine {
    /// A state machine on `db`.
    ///
    /// # Errors
    ///
    /// Currently infallible; kept fallible for migrations of the stored format.
    pub fn new(db: RegionDb) -> Result<RocksStateMachine, OpenStoreError> {
        Ok(RocksStateMachine { db })
    }

    fn read_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> StorageResult<Option<T>> {
        let raw = self
            .db
            .db
            .get_pinned_cf(self.db.cf(CF_SM_META), key)
            .map_err(|e| StorageIOError::read_state_machine(&e))?;
        match raw {
            None => Ok(None),
            Some(b) => {
                decode(&b).map(Some).map_err(|e| StorageIOError::read_state_machine(&e).into())
            }
        }
    }

    /// Applies one entry: for a proposal, each command with its effects and audit event in a write
    /// batch of its own (see the module documentation); the last write also records the applied
    /// log id.
    fn apply_entry(&mut self, entry: Entry<TypeConfig>) -> StorageResult<ProposalResponse> {
        let boundary = self.db.entry_boundary.clone();
        let _applying = boundary.lock();
        let log_id = entry.log_id;
        let meta_cf = self.db.cf(CF_SM_META);
        let mut changes = Vec::new();
        let mut responses = Vec::new();
        let mut commands = 0u64;
        let mut last = WriteBatch::default();
        match entry.payload {
            EntryPayload::Blank => {}
            EntryPayload::Membership(membership) => {
                let stored = StoredMembership::new(Some(log_id), membership);
                last.put_cf(meta_cf, META_MEMBERSHIP, encode(&stored));
            }
            EntryPayload::Normal(proposal) => {
                // Commands of this entry applied before a crash (only ever non-zero at startup,
                // when nobody waits for the responses).
                let done = match self.read_meta::<(u64, u32)>(META_APPLYING)? {
                    Some((index, n)) if index == log_id.index => n as usize,
                    _ => 0,
                };
                let count = proposal.commands.len();
                // The audit chain's head, read once and carried from command to command.
                let (_, mut prev_hash): ((u64, u32), [u8; 32]) =
                    self.read_meta(META_AUDIT_HEAD)?.unwrap_or(((0, 0), [0; 32]));
                for (position, env) in proposal.commands.into_iter().enumerate() {
                    if position < done {
                        responses.push(Ok(CommandOutput::NoOp));
                        continue;
                    }
                    let mut batch = WriteBatch::default();
                    let position = u32::try_from(position).unwrap_or(u32::MAX);
                    let (response, changed) =
                        self.apply_audited(&mut batch, log_id, position, &env, &mut prev_hash)?;
                    batch.put_cf(meta_cf, META_APPLYING, encode(&(log_id.index, position + 1)));
                    changes.extend(changed);
                    responses.push(response);
                    commands += 1;
                    if (position as usize) + 1 < count {
                        self.write(batch, log_id)?;
                    } else {
                        last = batch;
                    }
                }
            }
        }
        last.put_cf(meta_cf, META_LAST_APPLIED, encode(&Some(log_id)));
        self.write(last, log_id)?;
        metrics::counter!("yaoshi_state_applied_entries_total").increment(1);
        metrics::counter!("yaoshi_state_applied_commands_total").increment(commands);
        if changes.iter().any(|c| matches!(c, crate::feed::Change::AccessPoint(_))) {
            self.db.access_generation.fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        // No subscriber is fine: the feed is advisory, state is in RocksDB.
        let _ = self.db.feed.send(crate::feed::Applied { index: log_id.index, changes });
        Ok(responses)
    }

    /// Puts one command's effects and its audit event (chained to `prev_hash`, which becomes the
    /// event's hash) into `batch`; returns its response and the changes to announce on the feed.
    fn apply_audited(
        &self,
        batch: &mut WriteBatch,
        log_id: LogId<NodeId>,
        position: u32,
        env: &CommandEnvelope,
        prev_hash: &mut [u8; 32],
    ) -> StorageResult<(CommandResponse, Vec<crate::feed::Change>)> {
        let applied =
            apply_command(&self.db, batch, env).map_err(|e| StorageIOError::apply(log_id, &e))?;
        let changes =
            if applied.duplicate { Vec::new() } else { crate::feed::changes_of(&env.command) };
        let response = applied.response;
        let event = AuditEvent {
            log_index: log_id.index,
            position,
            request_id: env.meta.request_id.clone(),
            principal: env.meta.principal.as_ref().map(|p| p.to_string()),
            action: env.command.name().to_string(),
            target: env.command.target(),
            // A refused precondition (a stale or duplicate scheduled command) is recorded as a
            // no-op and a repeated proposal as a duplicate, so the trail shows every command and
            // what became of it.
            outcome: match &response {
                _ if applied.duplicate => AuditOutcome::Duplicate,
                Err(e) => AuditOutcome::Rejected(e.code),
                Ok(CommandOutput::NoOp) => AuditOutcome::NoOp,
                Ok(_) => AuditOutcome::Applied,
            },
            at_ms: env.meta.at_ms,
            prev_hash: *prev_hash,
        };
        let encoded = encode(&event);
        let hash: [u8; 32] = Sha256::digest(&encoded).into();
        batch.put_cf(self.db.cf(CF_AUDIT), audit_key(log_id.index, position), encoded);
        let meta_cf = self.db.cf(CF_SM_META);
        batch.put_cf(meta_cf, META_AUDIT_HEAD, encode(&((log_id.index, position), hash)));
        *prev_hash = hash;
        Ok((response, changes))
    }

    /// Not synced: the log entry is already durable, and RocksDB's single WAL orders this write
    /// before any later synced log append, so recovery never sees state ahead of the log.
    fn write(&self, batch: WriteBatch, log_id: LogId<NodeId>) -> StorageResult<()> {
        self.db
            .db
            .write_opt(batch, &WriteOptions::default())
            .map_err(|e| StorageIOError::apply(log_id, &e).into())
    }
}

impl RaftSnapshotBuilder<TypeConfig> for RocksStateMachine {
    async fn build_snapshot(&mut self) -> StorageResult<Snapshot<TypeConfig>> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || snapshot::build(&db)).await.map_err(|e| {
            StorageIOError::read_state_machine(&std::io::Error::other(e.to_string()))
        })?
    }
}

impl RaftStateMachine<TypeConfig> for RocksStateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> StorageResult<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>)> {
        let applied: Option<LogId<NodeId>> = self.read_meta(META_LAST_APPLIED)?.flatten();
        let membership = self.read_meta(META_MEMBERSHIP)?.unwrap_or_default();
        Ok((applied, membership))
    }

    async fn apply<I>(&mut self, entries: I) -> StorageResult<Vec<ProposalResponse>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut out = Vec::new();
        for entry in entries {
            out.push(self.apply_entry(entry)?);
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> StorageResult<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> StorageResult<()> {
        let db = self.db.clone();
        let meta = meta.clone();
        let data = snapshot.into_inner();
        let index = meta.last_log_id.map_or(0, |l| l.index);
        let feed = self.db.feed.clone();
        let generation = self.db.access_generation.clone();
        tokio::task::spawn_blocking(move || snapshot::install(&db, &meta, data)).await.map_err(
            |e| StorageIOError::write_state_machine(&std::io::Error::other(e.to_string())),
        )??;
        generation.fetch_add(1, std::sync::atomic::Ordering::Release);
        let _ =
            feed.send(crate::feed::Applied { index, changes: vec![crate::feed::Change::Reset] });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<TypeConfig>>> {
        snapshot::load_current(&self.db)
    }
}

/// The result of applying one command.
#[derive(Debug)]
pub(crate) struct Applied {
    /// What the proposer gets back.
    pub(crate) response: CommandResponse,
    /// The command repeats an already applied proposal (same principal, nonce and request id): it
    /// changed nothing and `response` is the first application's.
    pub(crate) duplicate: bool,
}

/// Applies `env` on top of the committed state in `db`, writing its effects into `batch`.
///
/// A command carrying a (principal, nonce) already applied within the replay window is not
/// applied again: when it is the same proposal (same request id: a write retried by its proposer
/// after a timeout, or appended twice around a leader change) it returns the first response and is
/// marked duplicate; otherwise it is a replayed signature (`SignatureNonceUsed`). A signed command
/// proposed before the nonce pruning horizon is refused `ServiceUnavailableTemporary` unapplied.
pub(crate) fn apply_command(
    db: &RegionDb,
    batch: &mut WriteBatch,
    env: &CommandEnvelope,
) -> Result<Applied, rocksdb::Error> {
    let signed = match (&env.meta.principal, &env.meta.nonce) {
        (Some(principal), Some(nonce)) => Some(nonce_key(principal.as_str(), nonce)),
        _ => None,
    };
    let forgotten_before = apply::nonces::forgotten_before(db)?;
    if let Some(key) = &signed {
        match apply::nonces::seen(db, key, &env.meta, forgotten_before)? {
            apply::nonces::Seen::New => {}
            apply::nonces::Seen::SameRequest(response) => {
                return Ok(Applied { response, duplicate: true });
            }
            apply::nonces::Seen::OtherRequest => {
                return Ok(Applied {
                    response: Err(ApiError::new(ErrorCode::SignatureNonceUsed)),
                    duplicate: false,
                });
            }
            // Its outcome is unknown to the client either way: refuse as unavailable, so it
            // retries as a new request, and the state changes at most once.
            apply::nonces::Seen::Forgotten => {
                return Ok(Applied {
                    response: Err(ApiError::new(ErrorCode::ServiceUnavailableTemporary)),
                    duplicate: false,
                });
            }
        }
    }
    apply::nonces::prune(db, batch, env.meta.at_ms, forgotten_before)?;
    let response = apply_change(db, batch, env)?;
    if let Some(key) = signed {
        apply::nonces::remember(db, batch, key, &env.meta, &response);
    }
    Ok(Applied { response, duplicate: false })
}

/// The command's own effect, decided by its domain (`apply/`).
fn apply_change(
    db: &RegionDb,
    batch: &mut WriteBatch,
    env: &CommandEnvelope,
) -> Result<CommandResponse, rocksdb::Error> {
    let at_ms = env.meta.at_ms;
    match &env.command {
        Command::CreateKey { metadata, version, tags } => {
            apply::keys::create(db, batch, metadata, version, tags)
        }
        Command::UpdateKeyDescription { key_id, description } => {
            apply::keys::update_description(db, batch, key_id, description)
        }
        Command::SetKeyEnabled { key_id, enabled } => {
            apply::keys::set_enabled(db, batch, key_id, *enabled)
        }
        Command::ScheduleKeyDeletion { key_id, pending_window_days } => {
            apply::keys::schedule_deletion(db, batch, key_id, *pending_window_days, at_ms)
        }
        Command::CancelKeyDeletion { key_id } => apply::keys::cancel_deletion(db, batch, key_id),
        Command::CreateKeyVersion { version } => {
            apply::keys::create_version(db, batch, version, at_ms)
        }
        Command::UpdateRotationPolicy { key_id, interval_s } => {
            apply::keys::update_rotation_policy(db, batch, key_id, *interval_s)
        }
        Command::SetDeletionProtection { key_id, protection } => {
            apply::keys::set_deletion_protection(db, batch, key_id, protection)
        }
        Command::CreateImportToken { token } => {
            apply::material::create_import_token(db, batch, token)
        }
        Command::ImportKeyMaterial {
            key_id,
            token,
            wrapped_material,
            material_digest,
            expire_ms,
        } => apply::material::import(
            db,
            batch,
            apply::material::Import {
                key_id,
                token,
                wrapped_material,
                material_digest,
                expire_ms: *expire_ms,
            },
            at_ms,
        ),
        Command::DeleteKeyMaterial { key_id } => apply::material::delete(db, batch, key_id),
        Command::CreateAlias { alias } => apply::aliases::create(db, batch, alias),
        Command::UpdateAlias { name, key_id } => apply::aliases::update(db, batch, name, key_id),
        Command::DeleteAlias { name } => apply::aliases::delete(db, batch, name),
        Command::TagResource { resource, tags } => apply::tags::tag(db, batch, resource, tags),
        Command::UntagResource { resource, tag_keys } => {
            apply::tags::untag(db, batch, resource, tag_keys)
        }
        Command::PurgeKey { key_id, expected_delete_ms, .. } => {
            apply::schedules::purge_key(db, batch, key_id, *expected_delete_ms, at_ms)
        }
        Command::RotateKey { key_id, expected_next_rotation_ms, version } => {
            apply::schedules::rotate_key(
                db,
                batch,
                key_id,
                *expected_next_rotation_ms,
                version,
                at_ms,
            )
        }
        Command::ExpireKeyMaterial { key_id, expected_expire_ms } => {
            apply::schedules::expire_material(db, batch, key_id, *expected_expire_ms, at_ms)
        }
        Command::PurgeImportTokens { tokens } => {
            apply::schedules::purge_import_tokens(db, batch, tokens, at_ms)
        }
        Command::BootstrapCredential { credential } => {
            apply::credentials::bootstrap(db, batch, credential)
        }
        Command::CreateCredential { credential } => {
            apply::credentials::create(db, batch, credential)
        }
        Command::RotateCredential { access_key_id, wrapped_secret, grace_ms } => {
            apply::credentials::rotate(db, batch, access_key_id, wrapped_secret, *grace_ms, at_ms)
        }
        Command::RevokeCredential { access_key_id } => {
            apply::credentials::revoke(db, batch, access_key_id)
        }
        Command::SetCredentialAccessPoint { access_key_id, access_point } => {
            apply::credentials::set_access_point(db, batch, access_key_id, access_point.as_deref())
        }
        Command::PutAccessPoint { access_point } => {
            apply::credentials::put_access_point(db, batch, access_point)
        }
        Command::DeleteAccessPoint { name } => {
            apply::credentials::delete_access_point(db, batch, name)
        }
        Command::CreateSecret { metadata, version, tags, new_key } => {
            apply::secrets::create(db, batch, metadata, version, tags, new_key.as_deref())
        }
        Command::PutSecretValue { name, version, stages } => {
            apply::secrets::put_value(db, batch, name, version, stages, at_ms)
        }
        Command::UpdateSecret { name, description, extended_config } => apply::secrets::update(
            db,
            batch,
            name,
            description.as_ref(),
            extended_config.as_ref(),
            at_ms,
        ),
        Command::UpdateSecretVersionStage { name, stage, remove_from, move_to } => {
            apply::secrets::update_stage(
                db,
                batch,
                name,
                stage,
                remove_from.as_ref(),
                move_to.as_ref(),
                at_ms,
            )
        }
        Command::DeleteSecret { name, recovery_window_days } => {
            apply::secrets::delete(db, batch, name, *recovery_window_days, at_ms)
        }
        Command::RestoreSecret { name } => apply::secrets::restore(db, batch, name, at_ms),
        Command::UpdateSecretRotationPolicy { name, interval_s } => {
            apply::secrets::update_rotation_policy(db, batch, name, *interval_s, at_ms)
        }
        Command::RotateSecret { name, version } => {
            apply::secrets::rotate(db, batch, name, version, None, at_ms)
        }
        Command::AutoRotateSecret { name, expected_next_rotation_ms, version } => {
            apply::secrets::rotate(
                db,
                batch,
                name,
                version,
                Some(*expected_next_rotation_ms),
                at_ms,
            )
        }
        Command::FinishSecretRotation { name, version_id, succeeded } => {
            apply::secrets::finish_rotation(db, batch, name, version_id, *succeeded, at_ms)
        }
        Command::PurgeSecret { name, expected_delete_ms } => {
            apply::secrets::purge(db, batch, name, *expected_delete_ms, at_ms)
        }
        Command::CreateCertificate { metadata, tags } => {
            apply::certificates::create(db, batch, metadata, tags)
        }
        Command::ImportCertificate { metadata, tags } => {
            apply::certificates::import(db, batch, metadata, tags)
        }
        Command::ExportCertificate { certificate_id } => {
            apply::certificates::authorize_export(db, certificate_id)
        }
        Command::UploadCertificate { certificate_id, certificate_pem, chain_pem } => {
            apply::certificates::upload(
                db,
                batch,
                certificate_id,
                certificate_pem,
                chain_pem,
                at_ms,
            )
        }
        Command::UpdateCertificateStatus { certificate_id, status } => {
            apply::certificates::update_status(db, batch, certificate_id, *status, at_ms)
        }
        Command::DeleteCertificate { certificate_id } => {
            apply::certificates::delete(db, batch, certificate_id)
        }
    }
}
